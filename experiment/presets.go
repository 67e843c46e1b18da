package experiment

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Preset is a paper's configuration: values of settings by flag name.
type Preset struct {
	Doc    string
	Values map[string]string
}

// Apply sets the preset's values on s, except those keep reports true for
// (settings a user gave explicitly, which win), and records its name.
func (p Preset) Apply(s *Settings, name string, keep func(flag string) bool) error {
	for _, k := range p.sortedKeys() {
		if keep != nil && keep(k) {
			continue
		}
		if err := s.Set(k, p.Values[k]); err != nil {
			return err
		}
	}
	s.Preset = name
	return nil
}

func (p Preset) sortedKeys() []string {
	var keys []string
	for k := range p.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func graspPreset(model, dataset string, epochs int, wd string, spc, iters int) Preset {
	return Preset{fmt.Sprintf("GraSP paper: %s on %s, %d epochs, batch 128, lr 0.1 (x0.1 at 50%% and 75%%), momentum 0.9, weight decay %s, scoring %d per class x %d", model, dataset, epochs, wd, spc, iters),
		map[string]string{"model": model, "dataset": dataset, "epochs": strconv.Itoa(epochs), "batch-size": "128", "lr": "0.1",
			"momentum": "0.9", "weight-decay": wd, "schedule": "step", "prune": "grasp",
			"samples-per-class": strconv.Itoa(spc), "scoring-iters": strconv.Itoa(iters)}}
}

// Presets are the GraSP paper's runs: <dataset>-<model> leaves the sparsity
// to the settings; <dataset>-<model>-<percent> sets it too.
func Presets() map[string]Preset {
	base := map[string]Preset{
		"cifar10-vgg19":          graspPreset("vgg19", "cifar10", 160, "5e-4", 10, 1),
		"cifar10-resnet32":       graspPreset("resnet32", "cifar10", 160, "1e-4", 10, 1),
		"cifar100-vgg19":         graspPreset("vgg19", "cifar100", 160, "5e-4", 10, 1),
		"cifar100-resnet32":      graspPreset("resnet32", "cifar100", 160, "1e-4", 5, 2),
		"tiny-imagenet-vgg19":    graspPreset("vgg19", "tiny-imagenet", 300, "5e-4", 1, 10),
		"tiny-imagenet-resnet32": graspPreset("resnet32", "tiny-imagenet", 300, "1e-4", 1, 10),
		"imagenet-resnet50": {"GraSP paper: resnet50 on ImageNet, scored as the official GraSP_ImageNet.py: 150 shuffled batches of 250 (37,500 images, read again for each pass), chunks of 20, the last linear layer re-drawn; training as PyTorch's ImageNet recipe: 90 epochs, batch 256, lr 0.1 (x0.1 at 30 and 60), momentum 0.9, weight decay 1e-4",
			map[string]string{"model": "resnet50", "dataset": "imagenet", "epochs": "90", "batch-size": "256", "lr": "0.1",
				"momentum": "0.9", "weight-decay": "1e-4", "schedule": "epochs:30,60", "prune": "grasp",
				"scoring-batch": "250", "scoring-iters": "150", "grasp-chunk": "20", "grasp-split-halves": "false", "grasp-reinit-last": "true"}},
	}
	out := map[string]Preset{}
	for name, p := range base {
		out[name] = p
		levels := []int{90, 95, 98}
		if name == "imagenet-resnet50" {
			levels = []int{60, 80, 90}
		}
		for _, l := range levels {
			v := map[string]string{"sparsity": strconv.FormatFloat(float64(l)/100, 'g', -1, 64)}
			for k, x := range p.Values {
				v[k] = x
			}
			out[fmt.Sprintf("%s-%d", name, l)] = Preset{fmt.Sprintf("%s, at %d%% sparsity", p.Doc, l), v}
		}
	}
	return out
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var n []string
	for k := range Presets() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// LookupPreset returns the named preset.
func LookupPreset(name string) (Preset, error) {
	p, ok := Presets()[name]
	if !ok {
		return Preset{}, bad("preset", name, "unknown preset (%s)", strings.Join(PresetNames(), ", "))
	}
	return p, nil
}
