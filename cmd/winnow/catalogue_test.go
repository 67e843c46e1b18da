package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/safetensors"
)

// runSafe runs winnow in-process, turning a panic into a test failure that
// names the case.
func runSafe(t *testing.T, args ...string) (out string, code int) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("winnow %v panicked: %v", args, r)
			out, code = fmt.Sprint(r), -1
		}
	}()
	return run(t, args...)
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func pngOf(t *testing.T, w, h int, seed uint8) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{seed + uint8(x), uint8(y), seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// folderData writes split/class/k.png images of 8x8 pixels.
func folderData(t *testing.T, tree map[string]map[string]int) string {
	root := t.TempDir()
	for split, classes := range tree {
		for class, n := range classes {
			os.MkdirAll(filepath.Join(root, split, class), 0o755)
			for k := 0; k < n; k++ {
				writeFile(t, filepath.Join(root, split, class, fmt.Sprintf("%d.png", k)), pngOf(t, 8, 8, uint8(k)))
			}
		}
	}
	return root
}

// mnistLike writes MNIST-format IDX files of n images of size x size.
func mnistLike(t *testing.T, size, n int) string {
	dir := t.TempDir()
	for _, split := range []string{"train", "t10k"} {
		img := []byte{0, 0, 8, 3}
		img = binary.BigEndian.AppendUint32(img, uint32(n))
		img = binary.BigEndian.AppendUint32(img, uint32(size))
		img = binary.BigEndian.AppendUint32(img, uint32(size))
		img = append(img, make([]byte, n*size*size)...)
		lab := []byte{0, 0, 8, 1}
		lab = binary.BigEndian.AppendUint32(lab, uint32(n))
		for i := 0; i < n; i++ {
			lab = append(lab, byte(i%10))
		}
		writeFile(t, filepath.Join(dir, split+"-images-idx3-ubyte"), img)
		writeFile(t, filepath.Join(dir, split+"-labels-idx1-ubyte"), lab)
	}
	return dir
}

// cifarData writes CIFAR-10's six batch files of one record each, batch
// empty being 0 bytes.
func cifarData(t *testing.T, empty string) string {
	dir := t.TempDir()
	rec := make([]byte, 3073)
	for _, f := range []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"} {
		b := rec
		if f == empty {
			b = nil
		}
		writeFile(t, filepath.Join(dir, f), b)
	}
	return dir
}

// lenet5State writes a lenet5 state with one tensor changed by edit.
func lenet5State(t *testing.T, edit func(*safetensors.Tensor)) string {
	_, _, in, _ := models.Describe("lenet5")
	m, err := models.New[float32]("lenet5", in, models.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ts := nn.StateTensors(m, safetensors.F32)
	for i := range ts {
		if ts[i].Name == "fc3.weight" {
			edit(&ts[i])
		}
	}
	p := filepath.Join(t.TempDir(), "state.safetensors")
	if err := safetensors.WriteFile(p, ts, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func bigPNG(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
	raw := b.Bytes()
	binary.BigEndian.PutUint32(raw[16:], uint32(w))
	binary.BigEndian.PutUint32(raw[20:], uint32(h))
	binary.BigEndian.PutUint32(raw[29:], crc32.ChecksumIEEE(raw[12:29]))
	return raw
}

// TestBadInputCatalogue: every bad input is an error with the right exit
// status (1 failure, 2 usage), no panic, and a message naming the file or
// the flag at fault.
func TestBadInputCatalogue(t *testing.T) {
	quick := []string{"--epochs", "1", "--limit-train", "200", "--limit-test", "100", "--batch-size", "50", "--samples-per-class", "1", "--quiet"}
	out := func() string { return filepath.Join(t.TempDir(), "run") }
	mixedCase := filepath.Join(t.TempDir(), "mixed.safetensors")
	writeFile(t, mixedCase, func() []byte {
		h := `{"fc3.weight":{"dtype":"F32","DTYPE":"I32","shape":[1],"data_offsets":[0,4]}}`
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), 0, 0, 0, 0)
	}())
	bomb := folderData(t, map[string]map[string]int{"train": {"a": 2, "b": 2}, "test": {"a": 1, "b": 1}})
	writeFile(t, filepath.Join(bomb, "train", "b", "huge.png"), bigPNG(t, 9000, 9000))
	cases := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"test class train lacks", append([]string{"train", "--dataset", "folder", "--model", "lenet300", "--prune", "none", "--out", out(),
			"--data-dir", folderData(t, map[string]map[string]int{"train": {"airplane": 2, "bird": 2}, "test": {"airplane": 1, "cat": 1}})}, quick...),
			1, []string{"cat", "not classes of the training split"}},
		{"empty class folder", append([]string{"train", "--dataset", "folder", "--model", "lenet300", "--prune", "none", "--out", out(),
			"--data-dir", folderData(t, map[string]map[string]int{"train": {"airplane": 2, "bird": 0}, "test": {"airplane": 1}})}, quick...),
			1, []string{"bird", "no images"}},
		{"empty test set", append([]string{"train", "--dataset", "folder", "--model", "lenet300", "--prune", "none", "--out", out(),
			"--data-dir", folderData(t, map[string]map[string]int{"train": {"airplane": 2}, "test": {"airplane": 0}})}, quick...),
			1, []string{"test", "no images"}},
		{"0-byte CIFAR batch", append([]string{"train", "--dataset", "cifar10", "--model", "vgg11", "--out", out(), "--data-dir", cifarData(t, "data_batch_4.bin")}, quick...),
			1, []string{"data_batch_4.bin", "empty"}},
		{"9000x9000 PNG", append([]string{"train", "--dataset", "folder", "--model", "lenet300", "--prune", "none", "--out", out(), "--data-dir", bomb}, quick...),
			1, []string{"huge.png", "9000x9000", "refused"}},
		{"10x10 MNIST for lenet5", append([]string{"train", "--model", "lenet5", "--out", out(), "--data-dir", mnistLike(t, 10, 20)}, quick...),
			1, []string{"lenet5", "10x10", "16x16"}},
		{"10x10 MNIST for lenet5 in eval", []string{"eval", "--model", "lenet5", "--checkpoint", "x", "--data-dir", mnistLike(t, 10, 20)},
			1, []string{"lenet5", "10x10"}},
		{"transposed fc3 via eval", []string{"eval", "--model", "lenet5", "--limit-test", "50", "--checkpoint", lenet5State(t, func(x *safetensors.Tensor) { x.Shape = []int{800, 500} })},
			1, []string{"fc3", "state.safetensors"}},
		{"transposed fc3 via --init", append([]string{"train", "--model", "lenet5", "--prune", "none", "--out", out(),
			"--init", lenet5State(t, func(x *safetensors.Tensor) { x.Shape = []int{800, 500} })}, quick...),
			1, []string{"fc3", "state.safetensors", "--init"}},
		{"I32 data for a float weight", []string{"eval", "--model", "lenet5", "--limit-test", "50", "--checkpoint", lenet5State(t, func(x *safetensors.Tensor) { x.DType = safetensors.I32 })},
			1, []string{"fc3.weight", "I32"}},
		{"case-mixed safetensors keys", []string{"eval", "--model", "lenet5", "--limit-test", "50", "--checkpoint", mixedCase}, 1, []string{"mixed.safetensors", "unknown key"}},
		{"--lr inf", []string{"train", "--lr", "inf"}, 2, []string{"--lr"}},
		{"--momentum nan", []string{"train", "--momentum", "nan"}, 2, []string{"--momentum"}},
		{"--weight-decay nan", []string{"train", "--weight-decay", "nan"}, 2, []string{"--weight-decay"}},
		{"--sparsity 1", []string{"train", "--sparsity", "1"}, 2, []string{"--sparsity"}},
		{"--temperature 0", []string{"prune", "--temperature", "0"}, 2, []string{"--temperature"}},
		{"--mean without --std", []string{"train", "--mean", "0.1"}, 2, []string{"--mean"}},
		{"--std 0", []string{"train", "--mean", "0.1", "--std", "0"}, 2, []string{"--std"}},
		{"--mean of 3 channels for MNIST", append([]string{"train", "--mean", "0.1,0.2,0.3", "--std", "1,1,1", "--out", out()}, quick...), 2, []string{"--mean", "channels"}},
		{"--mask with a method", []string{"train", "--mask", "m.safetensors", "--prune", "grasp"}, 2, []string{"--mask"}},
		{"--crop for MNIST", []string{"train", "--crop", "20"}, 2, []string{"--crop"}},
		{"--image-size for MNIST", []string{"train", "--image-size", "20"}, 2, []string{"--image-size"}},
		{"--schedule", []string{"train", "--schedule", "warm"}, 2, []string{"--schedule"}},
		{"--checkpoint-every", []string{"train", "--checkpoint-every", "often"}, 2, []string{"--checkpoint-every"}},
		{"--resume and --force", []string{"train", "--resume", "--force"}, 2, []string{"--resume", "--force"}},
		{"--resume of nothing", []string{"train", "--resume", "--out", out()}, 2, []string{"--resume", "holds no run"}},
		{"eval --predictions .txt", []string{"eval", "--checkpoint", "x", "--predictions", "p.txt"}, 2, []string{"--predictions"}},
		{"eval without --checkpoint", []string{"eval"}, 2, []string{"--checkpoint"}},
		{"missing checkpoint", []string{"eval", "--limit-test", "50", "--checkpoint", filepath.Join(t.TempDir(), "none.safetensors")}, 1, []string{"none.safetensors"}},
		{"eigendamage --ratio 1.5", []string{"eigendamage", "--ratio", "1.5", "--checkpoint", "x"}, 2, []string{"--ratio"}},
		{"bench --sparsity 2", []string{"bench", "--sparsity", "2"}, 2, []string{"--sparsity"}},
		{"sweep --seeds x", []string{"sweep", "--seeds", "x", "--out", out()}, 2, []string{"--seeds"}},
		{"sweep run of no plan", []string{"sweep", "run", t.TempDir(), "--index", "0"}, 1, []string{"sweep.json"}},
		{"unknown dataset", []string{"train", "--dataset", "imagenet21k"}, 2, []string{"--dataset"}},
		{"unknown model", []string{"train", "--model", "vgg7"}, 2, []string{"--model"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, code := runSafe(t, c.args...)
			if code != c.code {
				t.Errorf("winnow %v: exit %d, want %d: %s", c.args, code, c.code, got)
			}
			for _, w := range c.wants {
				if !strings.Contains(got, w) {
					t.Errorf("message %q does not name %q", got, w)
				}
			}
			if strings.Contains(got, "goroutine ") || strings.Contains(got, "panic") {
				t.Errorf("a panic trace: %s", got)
			}
		})
	}
}

// TestResumeWithOtherSettingsRefused: a resume with settings that define
// another run is refused before anything is written, listing every
// difference; config.json is left as it was.
func TestResumeWithOtherSettingsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	base := []string{"train", "--model", "lenet300", "--prune", "snip", "--sparsity", "0.5", "--epochs", "1", "--limit-train", "200",
		"--limit-test", "100", "--batch-size", "50", "--samples-per-class", "1", "--quiet", "--out", dir}
	if out, code := run(t, base...); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	for _, c := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"--prune", "grasp"}, []string{"prune: snip -> grasp"}},
		{[]string{"--sparsity", "0.9", "--lr", "0.05"}, []string{"sparsity: 0.5 -> 0.9", "lr: 0.1 -> 0.05"}},
		{[]string{"--dataset", "cifar10", "--data-dir", cifarData(t, "")}, []string{"dataset: mnist -> cifar10"}},
		{[]string{"--seed", "2"}, []string{"seed: 1 -> 2"}},
		{[]string{"--epochs", "0"}, []string{"--epochs"}},
	} {
		args := append(append(append([]string{}, base...), "--resume"), c.args...)
		out, code := runSafe(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", c.args, code, out)
		}
		for _, w := range c.wants {
			if !strings.Contains(out, w) {
				t.Errorf("%v: message %q lacks %q", c.args, out, w)
			}
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if !bytes.Equal(before, after) {
		t.Error("a refused resume changed config.json")
	}
	// Changes a resume may make: threads, workers.
	if out, code := run(t, append(append([]string{}, base...), "--resume", "--threads", "1", "--workers", "1")...); code != 0 {
		t.Errorf("resume with other threads: exit %d: %s", code, out)
	}
}
