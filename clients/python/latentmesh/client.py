"""A small LatentMesh client on pika: ``generator.generate`` with progress, cancel and retries.

Wire protocol (the same as MeshKit's RPCClient and EventBus):

* requests are protobuf messages with ``RequestMeta`` at field 1, published with publisher
  confirms and ``mandatory`` to the direct exchange ``latentmesh`` with routing key = method
  (``generator.generate``), or ``<method>.urgent`` when ``meta.priority > 0`` (the service's
  high-priority queue, drained first); properties: ``correlation_id``, ``reply_to`` (this
  client's exclusive auto-delete queue ``latentmesh.reply.<uuid>``), ``message_id``, ``type`` =
  method, ``timestamp`` (s) and header ``x-lm-ts-ms`` (ms), persistent;
* the one terminal answer is a ``latentmesh.v1.Reply`` on the default exchange to ``reply_to``
  with the same ``correlation_id``: ``result`` (the method's response) or ``error``;
* events are ``latentmesh.v1.Event`` on the topic exchange ``latentmesh.events``:
  ``run.<run_id>.progress|preview|status``; ``cancel.<run_id>`` asks the worker to stop.

``meta.request_id`` is the idempotency key: a retry with the same id (after a dropped
connection) never runs the work twice; it gets the stored result (``from_store``), or waits for
the run still in progress.
"""
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import pika
from pika import exceptions as px

from latentmesh.errors import ConnectionLost, MeshError, MeshTimeout, ServiceError, Unroutable
from latentmesh.png_text import png_text
from latentmesh.queue_estimate import QueueEstimate
from latentmesh.v1 import common_pb2, events_pb2, generator_pb2

WORK_EXCHANGE = "latentmesh"
EVENTS_EXCHANGE = "latentmesh.events"
URGENT_SUFFIX = ".urgent"
MAX_PRIORITY = 9

# Exceptions meaning "the connection went away": retried with the same request id.
_DROPPED = (px.AMQPConnectionError, px.StreamLostError, px.ConnectionClosed, px.ChannelWrongStateError,
            ConnectionError, socket.error)


def routing_key(method, priority):
    """The routing key of ``method`` at ``priority`` (0..9): urgent lane when priority > 0."""
    if not 0 <= priority <= MAX_PRIORITY:
        raise ValueError(f"priority = {priority} is out of range: must be in 0...{MAX_PRIORITY}")
    return method + URGENT_SUFFIX if priority > 0 else method


def work_queue(service, priority=0):
    """The broker queue a request of ``service`` at ``priority`` waits in."""
    return f"latentmesh.{service}" + (URGENT_SUFFIX if priority > 0 else "")


@dataclass
class Image:
    """One generated image: PNG bytes and where it came from (its tEXt tags in ``metadata``)."""
    png: bytes
    prompt: str
    prompt_index: int
    sample: int
    seed: int
    metadata: dict
    artifact_sha256: str = ""


@dataclass
class GenerateResult:
    """The answer of ``generate``: images in prompt-major order plus the run's identity."""
    images: list
    run_id: str
    request_id: str
    from_store: bool
    worker: str
    model: str
    tokenizer: str
    sampler: str
    steps: int
    guidance: float
    seconds: float


@dataclass
class Progress:
    """What the progress callback receives.

    ``stage`` is ``queued`` (``ahead`` requests before this one, ``eta_s`` until it starts, or
    None while unknown), ``step`` (``step`` of ``total``), or ``status`` (``status`` is the run's
    new state: running, succeeded, failed, cancelled).
    """
    stage: str
    run_id: str
    step: int = 0
    total: int = 0
    items_per_s: float = 0.0
    metrics: dict = field(default_factory=dict)
    ahead: int = 0
    eta_s: object = None
    status: str = ""
    message: str = ""


class MeshClient:
    """A blocking client for one RabbitMQ broker (``MESH_AMQP_URL`` by default).

    Not thread-safe: use one client per thread.
    """

    def __init__(self, url=None, client_name="python", connect_timeout=10.0):
        url = url or os.environ.get("MESH_AMQP_URL")
        if not url:
            raise MeshError("no broker URL: pass url= or set MESH_AMQP_URL (amqp://user:pass@host:port/%2f)")
        self.params = pika.URLParameters(url)
        self.params.socket_timeout = connect_timeout
        self.params.blocked_connection_timeout = 60
        self.client_name = client_name
        self._conn = None
        self._ch = None
        self._drop_requested = False
        self.reconnects = 0

    # -- connection -----------------------------------------------------------------------
    def _connect(self):
        if self._conn is not None and self._conn.is_open and self._ch is not None and self._ch.is_open:
            return
        self._reset()
        try:
            self._conn = pika.BlockingConnection(self.params)
        except px.ProbableAuthenticationError as e:
            raise MeshError(f"broker refused the credentials of {self.params.host}:{self.params.port}") from e
        self._ch = self._conn.channel()
        self._ch.confirm_delivery()

    def _reset(self):
        conn, self._conn, self._ch = self._conn, None, None
        if conn is not None:
            try:
                if conn.is_open:
                    conn.close()
            except Exception:  # the connection is already gone
                pass

    def close(self):
        """Closes the broker connection."""
        self._reset()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _drop_connection_for_testing(self):
        """Test hook: the socket is shut down at the next event loop turn, as if the network failed."""
        self._drop_requested = True

    # -- public API ------------------------------------------------------------------------
    def generate(self, prompts, n=1, steps=28, guidance=3.0, seed=0, model="", sampler="euler", *,
                 priority=0, request_id=None, run_id=None, timeout=600.0, on_progress=None, retries=3,
                 preview_every=0):
        """Generates ``n`` images per prompt with ``generator.generate``; returns a GenerateResult.

        ``request_id`` is the idempotency key (default: a fresh UUID): a call repeated with the
        same id returns the stored result instead of running again. ``timeout`` (seconds) bounds
        the whole call, including ``retries`` reconnects after a dropped connection; it is also
        sent as the request's deadline. ``on_progress(Progress)`` sees the queue position, then
        every sampler step and status change. Raises ServiceError (code, field, message),
        MeshTimeout, ConnectionLost or Unroutable.
        """
        if isinstance(prompts, str):
            prompts = [prompts]
        req = generator_pb2.GenerateRequest(model_name=model, prompts=list(prompts), steps=steps,
                                            guidance=guidance, seed=seed, n=n, sampler=sampler,
                                            preview_every=preview_every)
        reply = self.call("generator.generate", req, priority=priority, request_id=request_id, run_id=run_id,
                          timeout=timeout, on_progress=on_progress, retries=retries)
        resp = generator_pb2.GenerateResponse.FromString(reply.result)
        images = [Image(png=im.png, prompt=im.prompt, prompt_index=im.prompt_index, sample=im.sample, seed=im.seed,
                        metadata=png_text(im.png), artifact_sha256=im.artifact.sha256) for im in resp.images]
        return GenerateResult(images=images, run_id=reply.run_id, request_id=reply.request_id,
                              from_store=reply.from_store, worker=reply.worker, model=resp.model_name,
                              tokenizer=resp.tokenizer, sampler=resp.sampler, steps=resp.steps,
                              guidance=resp.guidance, seconds=resp.seconds)

    def cancel(self, run_id, reason="cancelled by client"):
        """Asks whichever worker runs ``run_id`` to stop at its next step (the call then ends
        with ServiceError code CANCELLED)."""
        _check_run_id(run_id)
        event = events_pb2.Event(cancel=events_pb2.CancelRun(run_id=run_id, reason=reason))
        key = f"cancel.{run_id}"
        for attempt in range(3):
            try:
                self._connect()
                self._ch.basic_publish(EVENTS_EXCHANGE, key, event.SerializeToString(),
                                       properties=pika.BasicProperties(type=key, delivery_mode=1))
                return
            except _DROPPED:
                self._reset()
                if attempt == 2:
                    raise ConnectionLost(f"could not publish the cancellation of run {run_id}")

    def call(self, method, request, *, priority=0, request_id=None, run_id=None, timeout=600.0,
             on_progress=None, retries=3):
        """Sends any request message (RequestMeta at field 1) to ``method`` and returns the
        successful ``latentmesh.v1.Reply``; raises ServiceError for an error reply."""
        request.meta.request_id = request_id or str(uuid.uuid4())
        request.meta.run_id = run_id or request.meta.run_id or str(uuid.uuid4())
        _check_run_id(request.meta.run_id)
        request.meta.priority = priority
        request.meta.client = request.meta.client or self.client_name
        deadline = time.time() + timeout
        request.meta.deadline_unix_ms = int(deadline * 1000)
        body = request.SerializeToString()  # identical bytes on every retry
        key = routing_key(method, priority)
        service = method.split(".", 1)[0]
        attempt = 0
        while True:
            try:
                self._connect()
                reply = self._call_once(key, method, service, body, request.meta, deadline, on_progress)
                break
            except _DROPPED as e:
                self._reset()
                attempt += 1
                self.reconnects += 1
                if attempt > retries or time.time() > deadline:
                    raise ConnectionLost(f"connection to the broker lost {attempt} times calling {method} "
                                         f"(request {request.meta.request_id}, run {request.meta.run_id}): {e!r}") from e
                time.sleep(min(0.25 * 2 ** attempt, 5.0))
        outcome = reply.WhichOneof("outcome")
        if outcome == "error":
            raise ServiceError(common_pb2.ErrorCode.Name(reply.error.code), reply.error.field, reply.error.message,
                               run_id=reply.run_id, request_id=reply.request_id)
        if outcome != "result":
            raise ServiceError("INTERNAL", "", f"reply for {reply.request_id} has neither result nor error",
                               run_id=reply.run_id, request_id=reply.request_id)
        return reply

    # -- one attempt -------------------------------------------------------------------------
    def _call_once(self, key, method, service, body, meta, deadline, on_progress):
        ch = self._ch
        correlation = str(uuid.uuid4())
        reply_queue = f"latentmesh.reply.{uuid.uuid4()}"
        ch.queue_declare(reply_queue, exclusive=True, auto_delete=True)
        got = {}

        def on_reply(_ch, _method, props, payload):
            if props.correlation_id == correlation:
                got["reply"] = payload

        ch.basic_consume(reply_queue, on_reply, auto_ack=True)
        state = _WatchState(meta.run_id, service, meta.priority)
        events_queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
        ch.queue_bind(events_queue, EVENTS_EXCHANGE, routing_key=f"run.{meta.run_id}.*")
        if on_progress is not None:
            # Starts of other runs of this service move this request up the queue.
            ch.queue_bind(events_queue, EVENTS_EXCHANGE, routing_key="run.*.status")
            state.start(self._queue_depths(service), time.time())

        def on_event(_ch, _method, _props, payload):
            try:
                event = events_pb2.Event.FromString(payload)
            except Exception:  # not an event: ignore
                return
            update = state.observe(event, time.time())
            if update is not None and on_progress is not None:
                on_progress(update)

        ch.basic_consume(events_queue, on_event, auto_ack=True)
        now_ms = int(time.time() * 1000)
        props = pika.BasicProperties(correlation_id=correlation, reply_to=reply_queue, message_id=correlation,
                                     type=method, timestamp=now_ms // 1000, headers={"x-lm-ts-ms": str(now_ms)},
                                     delivery_mode=2)
        try:
            ch.basic_publish(WORK_EXCHANGE, key, body, properties=props, mandatory=True)
        except px.UnroutableError as e:
            raise Unroutable(f"no queue is bound to '{key}' on exchange '{WORK_EXCHANGE}': is {service}-svc running?") from e
        except px.NackError as e:
            raise ConnectionLost(f"the broker refused the request to {key}") from e
        if on_progress is not None:
            on_progress(state.queued_update(time.time()))
        last_tick = time.time()
        while "reply" not in got:
            if time.time() > deadline:
                raise MeshTimeout(f"no reply to {method} within the timeout (run {meta.run_id}, request "
                                  f"{meta.request_id}): retry with the same request id or cancel the run",
                                  run_id=meta.run_id, request_id=meta.request_id)
            if self._drop_requested:
                self._drop_requested = False
                self._conn._impl._transport._sock.shutdown(socket.SHUT_RDWR)
            self._conn.process_data_events(time_limit=0.1)
            if on_progress is not None and state.waiting and time.time() - last_tick >= 1.0:
                last_tick = time.time()
                on_progress(state.queued_update(last_tick))
        reply = common_pb2.Reply.FromString(got["reply"])
        for queue in (reply_queue, events_queue):
            try:
                ch.queue_delete(queue)
            except Exception:  # auto-delete removes it anyway
                pass
        return reply

    def _queue_depths(self, service):
        """Ready messages of the service's urgent and normal queues, and its consumers (passive declares)."""
        out = {}
        for lane in (1, 0):
            ch = self._conn.channel()
            try:
                ok = ch.queue_declare(work_queue(service, lane), passive=True).method
                out[lane] = (ok.message_count, ok.consumer_count)
                ch.close()
            except px.ChannelClosedByBroker:  # queue not declared yet
                out[lane] = (0, 0)
        return out


class _WatchState:
    """Turns events into Progress updates: queue position until the run starts, then steps."""

    def __init__(self, run_id, service, priority):
        self.run_id = run_id
        self.service = service
        self.priority = priority
        self.estimate = QueueEstimate(ahead_at_enqueue=0, enqueued_at=time.time())
        self.waiting = True

    def start(self, depths, now):
        urgent, normal = depths.get(1, (0, 0)), depths.get(0, (0, 0))
        ahead = urgent[0] + (normal[0] if self.priority == 0 else 0)
        self.estimate = QueueEstimate(ahead_at_enqueue=ahead, enqueued_at=now, workers=max(1, normal[1]))

    def queued_update(self, now):
        ahead, eta = self.estimate.position(now)
        return Progress(stage="queued", run_id=self.run_id, ahead=ahead, eta_s=eta,
                        message=f"{ahead} ahead" + (f", starts in ~{eta:.0f} s" if eta is not None else ""))

    def observe(self, event, now):
        kind = event.WhichOneof("payload")
        if kind == "status":
            s = event.status
            if s.run_id != self.run_id:
                if s.service == self.service and s.status == "running":
                    self.estimate.started(now)
                elif s.service == self.service and s.status in ("succeeded", "failed", "cancelled"):
                    self.estimate.finished(now)
                return None
            if s.status == "running":
                self.waiting = False
            return Progress(stage="status", run_id=self.run_id, status=s.status,
                            message=s.error.message if s.HasField("error") else "")
        if kind == "progress" and event.progress.run_id == self.run_id:
            self.waiting = False
            p = event.progress
            return Progress(stage="step", run_id=self.run_id, step=p.step, total=p.total, items_per_s=p.items_per_s,
                            metrics=dict(p.metrics), message=p.message)
        return None


def _check_run_id(run_id):
    if not run_id or any(c in run_id for c in ".*#") or len(run_id.encode()) > 200:
        raise ValueError(f"run_id '{run_id}' must be 1...200 bytes without '.', '*' or '#'")
