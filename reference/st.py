"""Minimal safetensors reader/writer on numpy (PyTorch 1.13 has none)."""
import json, struct
import numpy as np

_DT = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}
_NAME = {np.dtype(v): k for k, v in _DT.items()}


def save(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name, a in tensors.items():
        a = np.array(a, order='C')
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': _NAME[a.dtype], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for name, e in header.items():
        b, en = e['data_offsets']
        out[name] = np.frombuffer(raw[8 + n + b:8 + n + en], dtype=_DT[e['dtype']]).reshape(e['shape'])
    return out, meta
