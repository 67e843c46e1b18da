package experiment

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/nn/models"
	"github.com/winnow-ml/winnow/prune"
	"github.com/winnow-ml/winnow/train"
)

// Settings define a training run: the model and its data, the pruning at
// initialisation and the optimisation. Two runs with equal Settings compute
// the same weights, bit for bit, whatever their Runtime. They are recorded
// in the run's config.json, and a run resumes only with the settings it
// started with (Diff names the differences).
//
// The JSON names are the flag names of winnow train with "_" for "-".
type Settings struct {
	Model     string    `json:"model"`
	Width     int       `json:"width,omitempty"` // CIFAR ResNets' channel multiplier (0: GraSP's 2)
	Dataset   string    `json:"dataset"`
	DataDir   string    `json:"data_dir,omitempty"`   // where the files are (may change on resume)
	ImageSize int       `json:"image_size,omitempty"` // folder datasets: resize to this (0: own size)
	Crop      int       `json:"crop,omitempty"`       // tiny-imagenet: random crop (training) and centre crop (evaluation) to this
	Mean      []float64 `json:"mean,omitempty"`       // per-channel normalisation (default: the dataset's)
	Std       []float64 `json:"std,omitempty"`
	// LimitTrain and LimitTest use that many examples spread evenly over
	// each split (0: all).
	LimitTrain int `json:"limit_train,omitempty"`
	LimitTest  int `json:"limit_test,omitempty"`

	Prune           string  `json:"prune"` // "none" trains the dense (or --mask'ed) network
	Sparsity        float64 `json:"sparsity"`
	Scope           string  `json:"scope"`
	MinLayerDensity float64 `json:"min_layer_density"`
	SamplesPerClass int     `json:"samples_per_class"`
	ScoringIters    int     `json:"scoring_iters"`
	Temperature     float64 `json:"temperature"`
	GraSPReinit     bool    `json:"grasp_reinit_linear"`
	GraSPHalves     bool    `json:"grasp_split_halves"`
	// ScoringBatch, GraSPChunk and GraSPReinitLast are the official ImageNet
	// variant's (GraSP_ImageNet.py): --scoring-iters shuffled batches of
	// ScoringBatch examples instead of the class-balanced sample, each
	// scored in chunks of GraSPChunk, only the last linear layer re-drawn.
	ScoringBatch    int  `json:"scoring_batch,omitempty"`
	GraSPChunk      int  `json:"grasp_chunk,omitempty"`
	GraSPReinitLast bool `json:"grasp_reinit_last,omitempty"`
	SynFlowRounds   int  `json:"synflow_rounds"`
	// Shots prunes at initialisation in this many shots (0, 1: one shot).
	Shots int `json:"shots,omitempty"`
	// Rounds and RewindStep are iterative magnitude pruning's (--prune
	// imp): rounds of train, prune, rewind to the step; Round is the round
	// a run folder of an IMP run holds.
	// PreEpochs prunes after this many epochs of training instead of at
	// initialisation, then rewinds to it (Synaptic-Flow's pre-epochs).
	PreEpochs  int `json:"pre_epochs,omitempty"`
	Rounds     int `json:"rounds,omitempty"`
	RewindStep int `json:"rewind,omitempty"`
	Round      int `json:"round,omitempty"`
	// AllowCollapse trains masks that disconnect the network (a warning
	// instead of an error).
	AllowCollapse bool `json:"allow_collapse,omitempty"`
	// Mask trains with the masks of this file (winnow's mask.safetensors,
	// or torch.nn.utils.prune's <layer>.weight_mask tensors).
	Mask string `json:"mask,omitempty"`
	// Init starts from this saved network instead of a fresh one; its masks,
	// if it has any, are kept.
	Init string `json:"init,omitempty"`

	Seed      uint64 `json:"seed"`
	Epochs    int    `json:"epochs"`
	BatchSize int    `json:"batch_size"`
	// Optimizer is sgd, adam or adamw (torch.optim's semantics); Momentum
	// and Nesterov are SGD's, AdamBetas and AdamEps Adam's.
	Optimizer   string    `json:"optimizer,omitempty"`
	LR          float64   `json:"lr"`
	Momentum    float64   `json:"momentum"`
	WeightDecay float64   `json:"weight_decay"`
	Nesterov    bool      `json:"nesterov"`
	AdamBetas   []float64 `json:"adam_betas,omitempty"`
	AdamEps     float64   `json:"adam_eps,omitempty"`
	Schedule    string    `json:"schedule"`
	// LabelSmoothing is the training loss's ε (0: the plain cross-entropy).
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// EvalBatchSize is the batch of evaluation passes (0: BatchSize).
	EvalBatchSize int `json:"eval_batch_size,omitempty"`

	// Preset names the paper configuration the settings came from; it does
	// not define the run (the values do).
	Preset string `json:"preset,omitempty"`
}

// DefaultSettings are winnow train's defaults: LeNet-5 on the built-in
// MNIST, GraSP at 98% sparsity as the official code scores, 3 epochs of the
// GraSP paper's optimisation.
func DefaultSettings() Settings {
	return Settings{Model: "lenet5", Dataset: "mnist", Prune: "grasp", Sparsity: 0.98, Scope: "global",
		SamplesPerClass: 10, ScoringIters: 1, Temperature: 200, GraSPReinit: true, GraSPHalves: true, SynFlowRounds: 100,
		Seed: 1, Epochs: 3, BatchSize: 128, Optimizer: "sgd", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4,
		AdamBetas: []float64{0.9, 0.999}, AdamEps: 1e-8, Schedule: "step"}
}

// withDefaults fills the settings that runs recorded before they existed
// with the values those runs had (SGD; Adam's defaults, unused by them).
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.Optimizer == "" {
		s.Optimizer = d.Optimizer
	}
	if len(s.AdamBetas) == 0 {
		s.AdamBetas = d.AdamBetas
	}
	if s.AdamEps == 0 {
		s.AdamEps = d.AdamEps
	}
	return s
}

// SettingError is a setting a user gave that cannot be used. Flag is its
// flag name (without dashes).
type SettingError struct {
	Flag  string
	Value any
	Msg   string
}

func (e *SettingError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("--%s: %s", e.Flag, e.Msg)
	}
	return fmt.Sprintf("--%s %v: %s", e.Flag, e.Value, e.Msg)
}

func bad(flag string, v any, format string, a ...any) error {
	return &SettingError{Flag: flag, Value: v, Msg: fmt.Sprintf(format, a...)}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Validate checks every setting on its own (the data are not read):
// numbers in range and finite, names known. The error is a *SettingError
// naming the flag.
func (s *Settings) Validate() error {
	if _, _, _, err := models.Describe(s.Model); err != nil {
		return bad("model", s.Model, "unknown model (%s)", strings.Join(models.Names(), ", "))
	}
	if _, err := data.Lookup(s.Dataset); err != nil {
		return bad("dataset", s.Dataset, "unknown dataset (%s)", strings.Join(data.Names(), ", "))
	}
	if s.Width < 0 {
		return bad("width", s.Width, "must not be negative")
	}
	for _, f := range []struct {
		flag string
		v    int
	}{{"image-size", s.ImageSize}, {"crop", s.Crop}, {"limit-train", s.LimitTrain}, {"limit-test", s.LimitTest}, {"eval-batch-size", s.EvalBatchSize},
		{"scoring-batch", s.ScoringBatch}, {"grasp-chunk", s.GraSPChunk}, {"shots", s.Shots}, {"pre-epochs", s.PreEpochs}, {"rewind", s.RewindStep}} {
		if f.v < 0 {
			return bad(f.flag, f.v, "must not be negative")
		}
	}
	if s.Crop > 0 && s.Dataset != "tiny-imagenet" {
		return bad("crop", s.Crop, "only for tiny-imagenet (folder datasets take --image-size)")
	}
	if s.Crop > 0 && s.Crop > 64 {
		return bad("crop", s.Crop, "larger than Tiny-ImageNet's 64x64 images")
	}
	if s.ImageSize > 0 && s.Dataset != "folder" {
		return bad("image-size", s.ImageSize, "only for folder datasets (%s has its own size)", s.Dataset)
	}
	if len(s.Mean) != len(s.Std) {
		return bad("mean", nil, "%d values, but --std has %d", len(s.Mean), len(s.Std))
	}
	for _, v := range s.Mean {
		if !finite(v) {
			return bad("mean", s.Mean, "values must be finite")
		}
	}
	for _, v := range s.Std {
		if !finite(v) || !(v > 0) {
			return bad("std", s.Std, "values must be positive and finite")
		}
	}
	if s.Prune == "none" {
		if s.Sparsity != 0 {
			return bad("sparsity", s.Sparsity, "--prune none trains without pruning: leave --sparsity at 0")
		}
	} else {
		if !slices.Contains(prune.Methods, s.Prune) && s.Prune != "imp" {
			return bad("prune", s.Prune, "unknown method (none, %s, imp)", strings.Join(prune.Methods, ", "))
		}
		if !finite(s.Sparsity) || !(s.Sparsity >= 0 && s.Sparsity < 1) {
			return bad("sparsity", s.Sparsity, "the fraction of weights removed must be in [0, 1)")
		}
		if s.Mask != "" {
			return bad("mask", s.Mask, "trains with the masks of the file: give --prune none")
		}
	}
	if s.Scope != string(prune.Global) && s.Scope != string(prune.Local) {
		return bad("scope", s.Scope, "want global or local")
	}
	if !finite(s.MinLayerDensity) || s.MinLayerDensity < 0 || s.MinLayerDensity > 1 {
		return bad("min-layer-density", s.MinLayerDensity, "must be in [0, 1]")
	}
	if s.Prune != "none" && s.MinLayerDensity > 1-s.Sparsity {
		return bad("min-layer-density", s.MinLayerDensity, "exceeds the overall density %v", 1-s.Sparsity)
	}
	if s.SamplesPerClass < 1 {
		return bad("samples-per-class", s.SamplesPerClass, "must be at least 1")
	}
	if s.ScoringIters < 1 {
		return bad("scoring-iters", s.ScoringIters, "must be at least 1")
	}
	if !finite(s.Temperature) || !(s.Temperature > 0) {
		return bad("temperature", s.Temperature, "must be positive and finite")
	}
	if s.PreEpochs > 0 && (s.Prune == "none" || s.Prune == "imp" || s.Init != "") {
		return bad("pre-epochs", s.PreEpochs, "prunes a fresh network after training it: with a method of pruning at initialisation, without --init")
	}
	if s.Prune == "imp" {
		if s.Rounds < 1 {
			return bad("rounds", s.Rounds, "--prune imp needs at least one round of pruning")
		}
		if s.Round < 0 || s.Round > s.Rounds {
			return bad("round", s.Round, "outside the run's rounds 0 to %d", s.Rounds)
		}
		if s.Init != "" {
			return bad("init", s.Init, "--prune imp starts from a fresh network")
		}
	} else if s.Rounds != 0 || s.RewindStep != 0 || s.Round != 0 {
		return bad("rounds", s.Rounds, "rounds and the rewinding step are --prune imp's")
	}
	if s.SynFlowRounds < 1 {
		return bad("synflow-rounds", s.SynFlowRounds, "must be at least 1")
	}
	if s.Epochs < 1 {
		return bad("epochs", s.Epochs, "must be at least 1")
	}
	if s.BatchSize < 1 {
		return bad("batch-size", s.BatchSize, "must be at least 1")
	}
	if !finite(s.LR) || !(s.LR > 0) {
		return bad("lr", s.LR, "must be positive and finite")
	}
	if !finite(s.Momentum) || s.Momentum < 0 || s.Momentum >= 1 {
		return bad("momentum", s.Momentum, "must be in [0, 1)")
	}
	if !finite(s.WeightDecay) || s.WeightDecay < 0 {
		return bad("weight-decay", s.WeightDecay, "must be finite and not negative")
	}
	sched, err := train.ParseSchedule(s.Schedule)
	if err != nil {
		return bad("schedule", s.Schedule, "%v", err)
	}
	if w, ok := sched.(train.Warmup); ok && w.Epochs >= float64(s.Epochs) {
		return bad("schedule", s.Schedule, "the warm-up of %g epochs is not shorter than the run's %d epochs", w.Epochs, s.Epochs)
	}
	switch s.Optimizer {
	case "", "sgd":
	case "adam", "adamw":
		if s.Nesterov {
			return bad("nesterov", s.Nesterov, "is SGD's; --optimizer %s has none", s.Optimizer)
		}
	default:
		return bad("optimizer", s.Optimizer, "unknown optimizer (sgd, adam, adamw)")
	}
	if b := s.AdamBetas; len(b) != 0 && (len(b) != 2 || !(b[0] >= 0 && b[0] < 1) || !(b[1] >= 0 && b[1] < 1)) {
		return bad("adam-betas", b, "must be two numbers in [0, 1)")
	}
	if !finite(s.AdamEps) || s.AdamEps < 0 {
		return bad("adam-eps", s.AdamEps, "must be finite and not negative (0: 1e-8)")
	}
	if !(s.LabelSmoothing >= 0 && s.LabelSmoothing < 1) {
		return bad("label-smoothing", s.LabelSmoothing, "must be in [0, 1)")
	}
	return nil
}

// PruneConfig is the pruning configuration of the settings.
func (s *Settings) PruneConfig() prune.Config {
	c := prune.DefaultConfig(s.Prune, s.Sparsity)
	c.Scope = prune.Scope(s.Scope)
	c.MinLayerDensity = s.MinLayerDensity
	c.Seed = s.Seed
	c.GraSP.Temperature = s.Temperature
	c.GraSP.ReinitLinear = s.GraSPReinit
	c.GraSP.SplitHalves = s.GraSPHalves
	c.GraSP.Chunk = s.GraSPChunk
	c.GraSP.ReinitLast = s.GraSPReinitLast
	c.SynFlow.Rounds = s.SynFlowRounds
	c.Shots = s.Shots
	return c
}

// TrainConfig is the optimisation of the settings (valid settings).
func (s *Settings) TrainConfig() train.Config {
	sched, err := train.ParseSchedule(s.Schedule)
	if err != nil {
		panic("experiment: TrainConfig of invalid settings: " + err.Error())
	}
	c := train.Config{Epochs: s.Epochs, Optimizer: s.Optimizer, LR: s.LR, Momentum: s.Momentum, WeightDecay: s.WeightDecay, Nesterov: s.Nesterov,
		Eps: s.AdamEps, Schedule: sched, LabelSmoothing: s.LabelSmoothing}
	if len(s.AdamBetas) == 2 {
		c.Betas = [2]float64{s.AdamBetas[0], s.AdamBetas[1]}
	}
	return c
}

// evalBatch is the batch size of evaluation passes.
func (s *Settings) evalBatch() int {
	if s.EvalBatchSize > 0 {
		return s.EvalBatchSize
	}
	return s.BatchSize
}

// notDefining are the settings a run may change on resume: where the data
// are, and the preset's name. Epochs are checked apart (ResumeChanges).
var notDefining = map[string]bool{"data_dir": true, "preset": true, "epochs": true, "allow_collapse": true}

// Diff lists the settings that differ between a and b, as
// "lr: 0.1 -> 0.05", leaving out those a resumed run may change.
func Diff(a, b Settings) []string {
	a, b = a.withDefaults(), b.withDefaults()
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := 0; i < va.NumField(); i++ {
		name := jsonName(va.Type().Field(i))
		if notDefining[name] {
			continue
		}
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(x, y) && !(isEmpty(va.Field(i)) && isEmpty(vb.Field(i))) {
			out = append(out, fmt.Sprintf("%s: %v -> %v", flagName(name), show(x), show(y)))
		}
	}
	return out
}

func isEmpty(v reflect.Value) bool { return v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0) }

func show(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return `""`
	}
	return v
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func flagName(jsonName string) string { return strings.ReplaceAll(jsonName, "_", "-") }

// ResumeChanges checks what a resume may change and returns a description
// of the changes: epochs may grow (not below those done), if the schedule
// gives every epoch done the rate it had.
func ResumeChanges(old, new Settings, epochsDone int) ([]string, error) {
	if d := Diff(old, new); len(d) > 0 {
		return nil, fmt.Errorf("the run was started with other settings: %s (resume with the run's own settings, or start over with --force)", strings.Join(d, "; "))
	}
	var changes []string
	if old.DataDir != new.DataDir {
		changes = append(changes, fmt.Sprintf("data-dir: %s -> %s", old.DataDir, new.DataDir))
	}
	if old.Epochs != new.Epochs {
		if new.Epochs < epochsDone {
			return nil, fmt.Errorf("--epochs %d: the run has done %d epochs already", new.Epochs, epochsDone)
		}
		sched := old.TrainConfig().Schedule
		for e := 0; e < epochsDone; e++ {
			if sched.LR(old.LR, e, old.Epochs) != sched.LR(new.LR, e, new.Epochs) {
				return nil, fmt.Errorf("--epochs %d: schedule %s would have given epoch %d another learning rate than the run's %d epochs gave it: "+
					"more epochs need a schedule that does not depend on the total (epochs:E1,E2, constant)", new.Epochs, old.Schedule, e+1, old.Epochs)
			}
		}
		changes = append(changes, fmt.Sprintf("epochs: %d -> %d", old.Epochs, new.Epochs))
	}
	return changes, nil
}

// Set sets the setting of a flag name (such as "weight-decay") from its
// text, as a command line would: the way presets apply.
func (s *Settings) Set(flag, value string) error {
	v := reflect.ValueOf(s).Elem()
	want := strings.ReplaceAll(flag, "-", "_")
	for i := 0; i < v.NumField(); i++ {
		if jsonName(v.Type().Field(i)) != want {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(value)
		case reflect.Int:
			n, err := strconv.Atoi(value)
			if err != nil {
				return bad(flag, value, "not an integer")
			}
			f.SetInt(int64(n))
		case reflect.Uint64:
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				return bad(flag, value, "not a non-negative integer")
			}
			f.SetUint(n)
		case reflect.Float64:
			x, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return bad(flag, value, "not a number")
			}
			f.SetFloat(x)
		case reflect.Bool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return bad(flag, value, "not true or false")
			}
			f.SetBool(b)
		case reflect.Slice:
			var xs []float64
			for _, p := range strings.Split(value, ",") {
				x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
				if err != nil {
					return bad(flag, value, "not a list of numbers")
				}
				xs = append(xs, x)
			}
			f.Set(reflect.ValueOf(xs))
		default:
			panic("experiment: Set: field kind " + f.Kind().String())
		}
		return nil
	}
	return bad(flag, nil, "no such setting")
}

// RunName is the default folder name of a run:
// <model>-<dataset>-<prune>-<sparsity>-s<seed>.
func (s *Settings) RunName() string {
	return fmt.Sprintf("%s-%s-%s-%g-s%d", s.Model, s.Dataset, s.Prune, s.Sparsity, s.Seed)
}
