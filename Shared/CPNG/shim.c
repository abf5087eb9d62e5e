// placeholder: implemented by the data kit
