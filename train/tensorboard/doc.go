// Package tensorboard writes TensorBoard event files: scalars, the
// session-start marker that makes TensorBoard drop the steps a resumed run
// computes again, and the hparams plugin's session summaries.
//
// An event file is a sequence of TFRecords (little-endian uint64 length,
// its masked CRC-32C, the bytes, their masked CRC-32C), each an Event
// protocol buffer (tensorflow/core/util/event.proto); the first says
// "brain.Event:2". No Go library in the module proxy writes them, and the
// format is small: the protocol buffers are encoded here by hand, and the
// tests read them back with Python's protobuf and crc32c packages.
package tensorboard
