# Reads a TensorBoard event file with Python's protobuf and crc32c packages
# (Debian: python3-protobuf, python3-crc32c, protobuf-compiler for protoc)
# and prints its events as JSON lines; exits 1 on a bad checksum.
# Usage: python3 read_events.py EVENTS_FILE
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import crc32c
from google.protobuf import json_format

here = os.path.dirname(os.path.abspath(__file__))
out = tempfile.mkdtemp()
subprocess.run(["protoc", "-I" + here, "-I/usr/include", "--python_out=" + out, os.path.join(here, "events.proto")], check=True)
sys.path.insert(0, out)
pb = importlib.import_module("events_pb2")


def masked(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


with open(sys.argv[1], "rb") as f:
    raw = f.read()
pos = 0
while pos < len(raw):
    head = raw[pos:pos + 8]
    (n,) = struct.unpack("<Q", head)
    (hc,) = struct.unpack("<I", raw[pos + 8:pos + 12])
    data = raw[pos + 12:pos + 12 + n]
    (dc,) = struct.unpack("<I", raw[pos + 12 + n:pos + 16 + n])
    if hc != masked(head) or dc != masked(data):
        print("bad checksum at byte", pos, file=sys.stderr)
        sys.exit(1)
    pos += 16 + n
    e = pb.Event.FromString(data)
    d = json_format.MessageToDict(e, preserving_proto_field_name=True)
    for i, v in enumerate(e.summary.value):
        if v.metadata.plugin_data.plugin_name == "hparams":
            hp = pb.HParamsPluginData.FromString(v.metadata.plugin_data.content)
            d["summary"]["value"][i]["hparams"] = json_format.MessageToDict(hp, preserving_proto_field_name=True)
    print(json.dumps(d))
