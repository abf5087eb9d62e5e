"""Unit tests of the client's pure parts (no broker): routing, PNG tags, queue estimate, errors."""
import os
import struct
import sys
import unittest
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from latentmesh import QueueEstimate, ServiceError, png_text, routing_key, work_queue  # noqa: E402
from latentmesh.v1 import common_pb2, generator_pb2  # noqa: E402


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


class ClientUnitTests(unittest.TestCase):
    def test_routing_keys_and_queues(self):
        self.assertEqual(routing_key("generator.generate", 0), "generator.generate")
        self.assertEqual(routing_key("generator.generate", 9), "generator.generate.urgent")
        self.assertEqual(work_queue("generator", 0), "latentmesh.generator")
        self.assertEqual(work_queue("generator", 2), "latentmesh.generator.urgent")
        with self.assertRaisesRegex(ValueError, "0...9"):
            routing_key("generator.generate", 10)

    def test_png_text_reads_tags_and_checks_crc(self):
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"prompt\x00a red dress") + chunk(b"tEXt", b"seed\x007") \
            + chunk(b"IEND", b"")
        self.assertEqual(png_text(png), {"prompt": "a red dress", "seed": "7"})
        broken = bytearray(png)
        broken[20] ^= 0xFF
        with self.assertRaisesRegex(ValueError, "CRC"):
            png_text(bytes(broken))
        with self.assertRaisesRegex(ValueError, "signature"):
            png_text(b"GIF89a")

    def test_queue_estimate(self):
        q = QueueEstimate(ahead_at_enqueue=20, enqueued_at=0.0, workers=2, seconds_per_request=4.0)
        self.assertEqual(q.position(0.0), (20, 21 / 0.5))
        for t in range(5):
            q.started(float(t))
        self.assertEqual(q.position(5.0), (15, 16 / 0.5))
        unknown = QueueEstimate(ahead_at_enqueue=3, enqueued_at=0.0)
        self.assertEqual(unknown.position(1.0), (3, None))
        unknown.finished(1.0)
        self.assertIsNone(unknown.throughput())
        unknown.finished(3.0)
        unknown.finished(5.0)
        self.assertAlmostEqual(unknown.throughput(), 0.5)
        self.assertEqual(unknown.position(5.0), (3, 8.0))
        for _ in range(10):
            unknown.started(6.0)
        self.assertEqual(unknown.position(6.0)[0], 0)
        with self.assertRaises(ValueError):
            QueueEstimate(ahead_at_enqueue=-1, enqueued_at=0.0)

    def test_generated_protos_match_the_wire(self):
        r = generator_pb2.GenerateRequest(prompts=["a"], n=2)
        r.meta.request_id = "x"
        r.meta.priority = 5
        header = common_pb2.RequestHeader.FromString(r.SerializeToString())
        self.assertEqual(header.meta.request_id, "x")
        self.assertEqual(header.meta.priority, 5)
        self.assertEqual(common_pb2.ErrorCode.Name(1), "INVALID_ARGUMENT")

    def test_service_error_carries_code_field_message(self):
        e = ServiceError("INVALID_ARGUMENT", "steps", "steps = 5000 is out of range", run_id="r1")
        self.assertEqual((e.code, e.field, e.message, e.run_id), ("INVALID_ARGUMENT", "steps", "steps = 5000 is out of range", "r1"))
        self.assertIn("[steps]", str(e))
        self.assertFalse(e.retryable)
        self.assertTrue(ServiceError("UNAVAILABLE", "", "x").retryable)


if __name__ == "__main__":
    unittest.main()
