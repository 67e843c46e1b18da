package tensorboard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestReadBackWithPython writes every kind of event and reads the file
// with Python's protobuf and crc32c packages against the documented field
// numbers (testdata/events.proto).
func TestReadBackWithPython(t *testing.T) {
	py := "/usr/bin/python3"
	skip := t.Skip
	if os.Getenv("WINNOW_REQUIRE_PYTHON") != "" { // CI installs them: no skipping there
		skip = t.Fatal
	}
	if err := exec.Command(py, "-c", "import google.protobuf, crc32c").Run(); err != nil {
		skip("needs python3-protobuf and python3-crc32c")
	}
	if _, err := exec.LookPath("protoc"); err != nil {
		skip("needs protoc (protobuf-compiler)")
	}
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Unix(1700000000, 250000000) }
	for _, err := range []error{
		w.SessionStart(map[string]HParam{"lr": 0.1, "optimizer": "adamw", "nesterov": true, "epochs": 3}, "grasp-0.98"),
		w.Scalars(1, map[string]float64{"train/loss": 2.5, "train/acc": 0.125}),
		w.Start(300),
		w.Scalars(300, map[string]float64{"test/acc": 0.96630001}),
		w.Scalars(-2, map[string]float64{"x": math.Inf(1)}),
		w.SessionEnd(1),
		w.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(py, "testdata/read_events.py", w.Path()).CombinedOutput()
	if err != nil {
		t.Fatalf("read_events.py: %v\n%s", err, out)
	}
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		events = append(events, e)
	}
	if len(events) != 7 {
		t.Fatalf("%d events, want 7:\n%s", len(events), out)
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	if wt, ok := events[0]["wall_time"].(float64); !ok || math.Abs(wt-float64(time.Now().Unix())) > 60 {
		t.Errorf("first event's wall time %v", events[0]["wall_time"])
	}
	events[0]["wall_time"] = 1700000000.25 // written before the test's clock was set
	for i, want := range []string{
		`{"file_version":"brain.Event:2","wall_time":1700000000.25}`,
		`{"summary":{"value":[{"hparams":{"session_start_info":{"group_name":"grasp-0.98","hparams":{"epochs":3,"lr":0.1,"nesterov":true,"optimizer":"adamw"},"start_time_secs":1700000000.25}},"metadata":{"plugin_data":{"content":"` +
			events[1]["summary"].(map[string]any)["value"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["plugin_data"].(map[string]any)["content"].(string) +
			`","plugin_name":"hparams"}},"tag":"_hparams_/session_start_info","tensor":{"dtype":1,"tensor_shape":{}}}]},"wall_time":1700000000.25}`,
		`{"step":"1","summary":{"value":[{"simple_value":0.125,"tag":"train/acc"},{"simple_value":2.5,"tag":"train/loss"}]},"wall_time":1700000000.25}`,
		`{"session_log":{"status":"START"},"step":"300","wall_time":1700000000.25}`,
		`{"step":"300","summary":{"value":[{"simple_value":0.9663,"tag":"test/acc"}]},"wall_time":1700000000.25}`,
		`{"step":"-2","summary":{"value":[{"simple_value":"Infinity","tag":"x"}]},"wall_time":1700000000.25}`,
	} {
		if got := js(events[i]); got != want {
			t.Errorf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
	end := events[6]["summary"].(map[string]any)["value"].([]any)[0].(map[string]any)
	if end["tag"] != "_hparams_/session_end_info" || js(end["hparams"]) != `{"session_end_info":{"end_time_secs":1700000000.25,"status":1}}` {
		t.Errorf("session end: %s", js(end))
	}

	// A flipped byte fails the checksum.
	b, _ := os.ReadFile(w.Path())
	b[40] ^= 1
	bad := filepath.Join(dir, "events.out.tfevents.bad")
	os.WriteFile(bad, b, 0o644)
	if err := exec.Command(py, "testdata/read_events.py", bad).Run(); err == nil {
		t.Error("a corrupted file read without error")
	}
}

func TestMaskedCRC(t *testing.T) {
	// CRC-32C of "123456789" is 0xe3069283 (the Castagnoli check value);
	// masked: rotated right by 15, plus 0xa282ead8.
	c := uint32(0xe3069283)
	if got, want := maskedCRC([]byte("123456789")), (c>>15|c<<17)+0xa282ead8; got != want {
		t.Errorf("maskedCRC = %#x, want %#x", got, want)
	}
}
