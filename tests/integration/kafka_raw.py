"""Raw Kafka protocol helpers for the integration tests (test code only).

Framing (int32 size prefix), request header v1, ApiVersions v0, Produce
v2/v3 encoding and response decoding, and a magic-v2 record batch builder
with a pure-Python CRC-32C (Castagnoli).
"""
import socket
import struct
import time

API_PRODUCE = 0
API_API_VERSIONS = 18

# --------------------------------------------------------------- CRC-32C

_CRC32C_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _CRC32C_POLY if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------- primitives


def zigzag_varint(n):
    """Signed varint (zigzag), as used inside v2 records."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def kstring(s):
    """Kafka (nullable) STRING: int16 length + UTF-8 bytes; None -> -1."""
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def kbytes(b):
    """Kafka (nullable) BYTES: int32 length + bytes; None -> -1."""
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


class Reader:
    """Bounds-checked big-endian reader over a response body."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated response at %d (+%d of %d)" % (self.pos, n, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int8(self):
        return struct.unpack(">b", self._take(1))[0]

    def int16(self):
        return struct.unpack(">h", self._take(2))[0]

    def int32(self):
        return struct.unpack(">i", self._take(4))[0]

    def int64(self):
        return struct.unpack(">q", self._take(8))[0]

    def string(self):
        n = self.int16()
        return None if n < 0 else self._take(n).decode()

    def remaining(self):
        return len(self.data) - self.pos


# --------------------------------------------------------------- framing


def request_header_v1(api_key, api_version, correlation_id, client_id="eddy-raw-test"):
    return struct.pack(">hhi", api_key, api_version, correlation_id) + kstring(client_id)


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect(addr, timeout=5.0):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(sock, n, deadline):
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out reading %d bytes (have %d)" % (n, len(buf)))
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def recv_frame(sock, timeout=10.0):
    """One size-prefixed response frame (without the size)."""
    deadline = time.monotonic() + timeout
    (size,) = struct.unpack(">i", recv_exact(sock, 4, deadline))
    if size < 4 or size > 64 << 20:
        raise ValueError("implausible response size %d" % size)
    return recv_exact(sock, size, deadline)


def wait_closed(sock, timeout=5.0):
    """True when the peer closes the connection (recv returns b'' or the
    connection is reset) within timeout; any bytes sent before are drained and
    returned as the second item."""
    deadline = time.monotonic() + timeout
    got = bytearray()
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, bytes(got)
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, bytes(got)
        except (ConnectionResetError, BrokenPipeError):
            return True, bytes(got)
        if not chunk:
            return True, bytes(got)
        got += chunk


def call(sock, api_key, api_version, body, correlation_id=1, timeout=10.0):
    """Send one request (header v1) and return the response body after the
    v0 response header, checking the correlation id."""
    sock.sendall(frame(request_header_v1(api_key, api_version, correlation_id) + body))
    resp = recv_frame(sock, timeout)
    r = Reader(resp)
    corr = r.int32()
    if corr != correlation_id:
        raise ValueError("correlation id %d != %d" % (corr, correlation_id))
    return resp[4:]


# --------------------------------------------------------------- ApiVersions


def api_versions_v0_decode(body):
    """ApiVersions response v0 (also the shape of an UNSUPPORTED_VERSION
    reply to any version, KIP-511): (error_code, {api_key: (min, max)})."""
    r = Reader(body)
    err = r.int16()
    n = r.int32()
    if n < 0 or n > 1000:
        raise ValueError("implausible api count %d" % n)
    apis = {}
    for _ in range(n):
        k, lo, hi = r.int16(), r.int16(), r.int16()
        apis[k] = (lo, hi)
    return err, apis


# --------------------------------------------------------------- records


def record_v2(offset_delta, ts_delta, key, value, headers=()):
    body = bytearray()
    body += struct.pack(">b", 0)  # attributes
    body += zigzag_varint(ts_delta)
    body += zigzag_varint(offset_delta)
    if key is None:
        body += zigzag_varint(-1)
    else:
        body += zigzag_varint(len(key)) + key
    if value is None:
        body += zigzag_varint(-1)
    else:
        body += zigzag_varint(len(value)) + value
    body += zigzag_varint(len(headers))
    for hk, hv in headers:
        body += zigzag_varint(len(hk)) + hk
        body += zigzag_varint(-1) if hv is None else zigzag_varint(len(hv)) + hv
    return zigzag_varint(len(body)) + bytes(body)


def record_batch_v2(records, base_timestamp=None, corrupt_crc=False):
    """A magic-v2 batch, no compression, no producer id, from a list of
    (key, value) pairs. corrupt_crc flips the stored CRC."""
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    recs = b"".join(record_v2(i, 0, k, v) for i, (k, v) in enumerate(records))
    after_crc = struct.pack(
        ">hiqqqhii",
        0,                    # attributes
        len(records) - 1,     # lastOffsetDelta
        base_timestamp,       # baseTimestamp
        base_timestamp,       # maxTimestamp
        -1,                   # producerId
        -1,                   # producerEpoch
        -1,                   # baseSequence
        len(records),         # records count
    ) + recs
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xA5A5A5A5
    # batchLength counts everything after the batchLength field itself.
    batch_length = 4 + 1 + 4 + len(after_crc)  # leaderEpoch + magic + crc + rest
    return struct.pack(">qiibI", 0, batch_length, -1, 2, crc) + after_crc


# --------------------------------------------------------------- Produce


def produce_request(version, topic, partition, batch, acks=-1, timeout_ms=10000):
    """Produce v2 (no transactional id) or v3 request body, one partition."""
    body = b""
    if version >= 3:
        body += kstring(None)  # transactional_id
    body += struct.pack(">hi", acks, timeout_ms)
    body += struct.pack(">i", 1) + kstring(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + kbytes(batch)
    return body


def produce_response_decode(version, body):
    """Produce response v2/v3: [(topic, partition, error_code, base_offset)]."""
    r = Reader(body)
    out = []
    for _ in range(r.int32()):
        topic = r.string()
        for _ in range(r.int32()):
            p = r.int32()
            err = r.int16()
            base = r.int64()
            if version >= 2:
                r.int64()  # log_append_time
            out.append((topic, p, err, base))
    r.int32()  # throttle_time_ms (v1+)
    return out
