"""Queue position and ETA of a waiting request (the Python twin of MeshKit's QueueEstimator).

Position: the requests ahead of this one when it was published (broker queue depth of its lane
and of every lane drained before it) minus the runs of the same service that started since.
ETA until it starts: (ahead + 1) / throughput, where throughput (requests per second) is
``workers / seconds_per_request`` when the recent duration is known, else the completion rate
observed while waiting (needs two completions). Unknown throughput gives ``eta = None``.
"""


class QueueEstimate:
    def __init__(self, ahead_at_enqueue, enqueued_at, workers=1, seconds_per_request=None):
        if ahead_at_enqueue < 0:
            raise ValueError(f"ahead_at_enqueue = {ahead_at_enqueue} must be >= 0")
        if workers < 1:
            raise ValueError(f"workers = {workers} must be >= 1")
        self.ahead_at_enqueue = ahead_at_enqueue
        self.enqueued_at = enqueued_at
        self.workers = workers
        self.seconds_per_request = seconds_per_request
        self.starts = 0
        self.finishes = []

    def started(self, now):
        """Another run of the service started (one fewer ahead)."""
        self.starts += 1

    def finished(self, now):
        """Another run of the service finished (a throughput sample)."""
        self.finishes.append(now)

    def throughput(self):
        """Requests per second, or None while unknown."""
        if self.seconds_per_request and self.seconds_per_request > 0:
            return self.workers / self.seconds_per_request
        if len(self.finishes) >= 2 and self.finishes[-1] > self.finishes[0]:
            return (len(self.finishes) - 1) / (self.finishes[-1] - self.finishes[0])
        return None

    def position(self, now):
        """(ahead, eta_seconds or None) at time ``now``."""
        ahead = max(0, self.ahead_at_enqueue - self.starts)
        rate = self.throughput()
        return ahead, ((ahead + 1) / rate if rate else None)
