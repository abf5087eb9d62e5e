// ServiceHandlers
