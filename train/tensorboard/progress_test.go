package tensorboard

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/winnow-ml/winnow/train"
)

// topFields reads an event file's records and returns, per event, its step
// and the numbers of its top-level fields.
func topFields(t *testing.T, path string) (steps []int64, fields [][]int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) > 0 {
		n := binary.LittleEndian.Uint64(b)
		if binary.LittleEndian.Uint32(b[8:]) != maskedCRC(b[:8]) {
			t.Fatal("bad length checksum")
		}
		e := b[12 : 12+n]
		if binary.LittleEndian.Uint32(b[12+n:]) != maskedCRC(e) {
			t.Fatal("bad data checksum")
		}
		b = b[16+n:]
		var step int64
		var fs []int
		for len(e) > 0 {
			key, k := binary.Uvarint(e)
			e = e[k:]
			fs = append(fs, int(key>>3))
			switch key & 7 {
			case 0:
				v, k := binary.Uvarint(e)
				if key>>3 == 2 {
					step = int64(v)
				}
				e = e[k:]
			case 1:
				e = e[8:]
			case 2:
				l, k := binary.Uvarint(e)
				e = e[k+int(l):]
			case 5:
				e = e[4:]
			}
		}
		steps, fields = append(steps, step), append(fields, fs)
	}
	return steps, fields
}

// A fresh run writes no session start; a run resumed in epoch 2 after
// step 3 (of 10 an epoch) writes one at global step 14, then its steps.
func TestProgressResumed(t *testing.T) {
	for _, c := range []struct {
		epoch, done int
		start       int64 // 0: none
	}{{1, 0, 0}, {2, 3, 14}} {
		w, err := Create(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		p := &Progress{W: w}
		p.StartEpoch(c.epoch, 3, 10, c.done)
		p.Step(c.done+1, 1, 0.5, 100)
		p.EndEpoch(train.EpochResult{Epoch: c.epoch})
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		steps, fields := topFields(t, w.Path())
		var got int64
		for i, fs := range fields {
			for _, f := range fs {
				if f == 7 {
					got = steps[i]
				}
			}
		}
		if got != c.start {
			t.Errorf("resumed in epoch %d after step %d: session start at %d, want %d", c.epoch, c.done, got, c.start)
		}
		last := int64(c.epoch * 10)
		if steps[len(steps)-2] != int64((c.epoch-1)*10+c.done+1) || steps[len(steps)-1] != last {
			t.Errorf("steps %v: want the step's %d and the epoch's %d", steps, (c.epoch-1)*10+c.done+1, last)
		}
	}
}
