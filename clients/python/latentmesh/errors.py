"""Exceptions of the LatentMesh client.

Every failure the service reports arrives as one terminal ``latentmesh.v1.Error`` (code, field,
message) and is raised as :class:`ServiceError` carrying exactly those three values.
"""


class MeshError(Exception):
    """Base class of every error this package raises."""


class ServiceError(MeshError):
    """The service answered the request with an error.

    ``code`` is the ErrorCode name (INVALID_ARGUMENT, NOT_FOUND, DEADLINE_EXCEEDED, CANCELLED,
    UNAVAILABLE, INTERNAL); ``field`` names the offending request field (may be empty).
    """

    def __init__(self, code, field, message, run_id="", request_id=""):
        self.code = code
        self.field = field
        self.message = message
        self.run_id = run_id
        self.request_id = request_id
        where = f" [{field}]" if field else ""
        super().__init__(f"{code}{where}: {message} (run {run_id})")

    @property
    def retryable(self):
        """UNAVAILABLE is the one code worth retrying with the same request id."""
        return self.code == "UNAVAILABLE"


class MeshTimeout(MeshError):
    """No terminal reply within the caller's timeout (the run may still finish: retry with
    the same request id to collect it, or cancel it by run id)."""

    def __init__(self, message, run_id="", request_id=""):
        self.run_id = run_id
        self.request_id = request_id
        super().__init__(message)


class ConnectionLost(MeshError):
    """The broker connection dropped and the retries (same request id) ran out."""


class Unroutable(MeshError):
    """No queue is bound to the method's routing key: the service is not deployed."""
