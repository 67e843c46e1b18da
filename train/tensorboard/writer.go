package tensorboard

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Writer appends events to one event file.
type Writer struct {
	f    *os.File
	w    *bufio.Writer
	path string
	now  func() time.Time
}

// Create makes dir and a new event file in it,
// events.out.tfevents.<seconds>.<host>.<pid> (TensorBoard reads every file
// whose name holds "tfevents"), and writes its first event.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	now := time.Now()
	path := filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.%s.%d", now.Unix(), host, os.Getpid()))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tensorboard: %w", err)
	}
	w := &Writer{f: f, w: bufio.NewWriter(f), path: path, now: time.Now}
	var e message
	e.double(1, w.wallTime())
	e.str(3, "brain.Event:2")
	if err := w.record(e); err != nil {
		f.Close()
		return nil, err
	}
	return w, w.Flush()
}

// Path is the event file's path.
func (w *Writer) Path() string { return w.path }

func (w *Writer) wallTime() float64 { return float64(w.now().UnixMicro()) / 1e6 }

// Scalars writes one event at step holding a scalar per tag, in the tags'
// order.
func (w *Writer) Scalars(step int64, values map[string]float64) error {
	tags := make([]string, 0, len(values))
	for t := range values {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	var s message
	for _, t := range tags {
		var v message
		v.str(1, t)
		v.float32(2, float32(values[t]))
		s.msg(1, v)
	}
	return w.event(step, 5, s)
}

// Start writes a SessionLog START at step: TensorBoard then discards the
// events of earlier files at this step and after it (a run resumed from a
// checkpoint at step computes them again).
func (w *Writer) Start(step int64) error {
	var l message
	l.varint(1, 1) // START
	return w.event(step, 7, l)
}

// HParam is a hyperparameter's value: a string, a number or a bool.
type HParam any

// SessionStart writes the hparams plugin's session start: the run's
// hyperparameters, for TensorBoard's HPARAMS tab (group: the session's
// group name, "" for its own).
func (w *Writer) SessionStart(hparams map[string]HParam, group string) error {
	var info message
	keys := make([]string, 0, len(hparams))
	for k := range hparams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v message // google.protobuf.Value
		switch x := hparams[k].(type) {
		case string:
			v.str(3, x)
		case bool:
			v.boolean(4, x)
		case float64:
			v.double(2, x)
		case int:
			v.double(2, float64(x))
		case uint64:
			v.double(2, float64(x))
		default:
			return fmt.Errorf("tensorboard: hparam %s: %T is not a string, number or bool", k, x)
		}
		var entry message
		entry.str(1, k)
		entry.msg(2, v)
		info.msg(1, entry)
	}
	if group != "" {
		info.str(4, group)
	}
	info.double(5, w.wallTime())
	var data message // HParamsPluginData
	data.msg(3, info)
	return w.pluginSummary("_hparams_/session_start_info", "hparams", data)
}

// SessionEnd writes the hparams plugin's session end: status 1 success,
// 2 failure, 3 running, 0 unknown.
func (w *Writer) SessionEnd(status int) error {
	var info message
	info.varint(1, uint64(status))
	info.double(2, w.wallTime())
	var data message
	data.msg(4, info)
	return w.pluginSummary("_hparams_/session_end_info", "hparams", data)
}

// pluginSummary writes a summary value of a plugin's data: its content in
// the metadata, the value an empty float tensor, as TensorBoard's own
// summaries write them.
func (w *Writer) pluginSummary(tag, plugin string, content message) error {
	var pd message
	pd.str(1, plugin)
	pd.bytes(2, content.b)
	var md message
	md.msg(1, pd)
	var tensor message // TensorProto: DT_FLOAT, shape [], no values
	tensor.varint(1, 1)
	tensor.msg(2, message{})
	var v message
	v.str(1, tag)
	v.msg(8, tensor)
	v.msg(9, md)
	var s message
	s.msg(1, v)
	return w.event(0, 5, s)
}

// event writes an Event with its wall time, step and one payload field.
func (w *Writer) event(step int64, field int, payload message) error {
	var e message
	e.double(1, w.wallTime())
	if step != 0 {
		e.varint(2, uint64(step))
	}
	e.msg(field, payload)
	return w.record(e)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's checksum: CRC-32C rotated right by 15 bits plus
// a constant.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

func (w *Writer) record(e message) error {
	var head [12]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(len(e.b)))
	binary.LittleEndian.PutUint32(head[8:], maskedCRC(head[:8]))
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], maskedCRC(e.b))
	for _, b := range [][]byte{head[:], e.b, tail[:]} {
		if _, err := w.w.Write(b); err != nil {
			return fmt.Errorf("tensorboard: %s: %w", w.path, err)
		}
	}
	return nil
}

// Flush writes the buffered events to the file.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("tensorboard: %s: %w", w.path, err)
	}
	return nil
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	err := w.Flush()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("tensorboard: %s: %w", w.path, cerr)
	}
	return err
}

// message is a protocol buffer being encoded.
type message struct{ b []byte }

func (m *message) tag(field, wire int) { m.b = binary.AppendUvarint(m.b, uint64(field<<3|wire)) }

func (m *message) varint(field int, v uint64) {
	m.tag(field, 0)
	m.b = binary.AppendUvarint(m.b, v)
}

func (m *message) boolean(field int, v bool) {
	x := uint64(0)
	if v {
		x = 1
	}
	m.varint(field, x)
}

func (m *message) double(field int, v float64) {
	m.tag(field, 1)
	m.b = binary.LittleEndian.AppendUint64(m.b, math.Float64bits(v))
}

func (m *message) float32(field int, v float32) {
	m.tag(field, 5)
	m.b = binary.LittleEndian.AppendUint32(m.b, math.Float32bits(v))
}

func (m *message) bytes(field int, v []byte) {
	m.tag(field, 2)
	m.b = binary.AppendUvarint(m.b, uint64(len(v)))
	m.b = append(m.b, v...)
}

func (m *message) str(field int, v string) { m.bytes(field, []byte(v)) }

func (m *message) msg(field int, v message) { m.bytes(field, v.b) }
