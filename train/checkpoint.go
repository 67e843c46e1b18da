package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/winnow-ml/winnow/autograd"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
)

// CheckpointFile is the name of a run's checkpoint in its folder.
const CheckpointFile = "checkpoint.safetensors"

func (t *Trainer) checkpointPath() string { return filepath.Join(t.Out, CheckpointFile) }

// save checkpoints the run at an epoch's end.
func (t *Trainer) save() error { return t.saveWith(t.pos) }

// Checkpoint tensors: the model's state under "model/", masks under
// "mask/", the optimiser's buffers under their kind ("momentum/",
// "exp_avg/", "exp_avg_sq/"); metadata "epoch" (epochs done), "step" (steps
// done of the next epoch), "position" (the running sums of that epoch,
// JSON), "history" (the metrics so far, JSON) and "optimizer_steps".
func (t *Trainer) saveWith(p position) error {
	if t.Out == "" {
		return nil
	}
	var tensors []safetensors.Tensor
	for _, x := range nn.StateTensors(t.Model, safetensors.F32) {
		x.Name = "model/" + x.Name
		tensors = append(tensors, x)
	}
	for _, p := range nn.Trainable(t.Model) {
		bufs := t.opt.Buffers(p)
		for _, kind := range slices.Sorted(maps.Keys(bufs)) {
			tensors = append(tensors, safetensors.FromFloats(kind+"/"+p.Name, safetensors.F32, p.Shape, bufs[kind]))
		}
	}
	for _, x := range nn.MaskTensors(t.Model) {
		x.Name = "mask/" + x.Name
		tensors = append(tensors, x)
	}
	hist, _ := json.Marshal(t.history)
	pos, _ := json.Marshal(p)
	meta := map[string]string{"epoch": strconv.Itoa(p.Epoch), "step": strconv.Itoa(p.Step), "position": string(pos), "history": string(hist),
		"optimizer_steps": strconv.Itoa(t.opt.Steps()), "start_epoch": strconv.Itoa(t.start)}
	for k, v := range t.Meta {
		meta[k] = v
	}
	if err := safetensors.WriteFile(t.checkpointPath(), tensors, meta); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	t.saved = &p
	return t.writeMetrics()
}

// Resume loads a checkpoint written by an earlier run: weights, BN
// statistics, masks, momentum, the epochs done and, for a checkpoint
// written within an epoch, the steps done of it.
func (t *Trainer) Resume(path string) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	opt, err := t.optimizer()
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var state, masks []safetensors.Tensor
	var buffers []safetensors.Tensor
	for _, x := range f.Tensors {
		switch {
		case strings.HasPrefix(x.Name, "model/"):
			x.Name = x.Name[len("model/"):]
			state = append(state, x)
		case strings.HasPrefix(x.Name, "mask/"):
			x.Name = x.Name[len("mask/"):]
			masks = append(masks, x)
		case strings.Contains(x.Name, "/"):
			buffers = append(buffers, x)
		default:
			return fmt.Errorf("train: resume: %s: unexpected tensor %q", path, x.Name)
		}
	}
	steps := 0
	if s, ok := f.Metadata["optimizer_steps"]; ok {
		if steps, err = strconv.Atoi(s); err != nil || steps < 0 {
			return fmt.Errorf("train: resume: %s: bad optimizer_steps metadata %q", path, s)
		}
	}
	var hist []EpochResult
	if err := json.Unmarshal([]byte(f.Metadata["history"]), &hist); err != nil {
		return fmt.Errorf("train: resume: %s: bad history metadata: %v", path, err)
	}
	start := 0 // the run's first epoch (Trainer.StartStep's)
	if s, ok := f.Metadata["start_epoch"]; ok {
		if start, err = strconv.Atoi(s); err != nil || start < 0 {
			return fmt.Errorf("train: resume: %s: bad start_epoch metadata %q", path, s)
		}
	}
	pos := position{Epoch: start + len(hist)}
	if s, ok := f.Metadata["position"]; ok {
		if err := json.Unmarshal([]byte(s), &pos); err != nil {
			return fmt.Errorf("train: resume: %s: bad position metadata: %v", path, err)
		}
	}
	if e, err := strconv.Atoi(f.Metadata["epoch"]); err != nil || e != start+len(hist) || pos.Epoch != e {
		return fmt.Errorf("train: resume: %s: epoch %q does not match %d epochs of history from epoch %d", path, f.Metadata["epoch"], len(hist), start+1)
	}
	if t.Train != nil && (pos.Step < 0 || pos.Step > t.Train.NumBatches()) {
		return fmt.Errorf("train: resume: %s: the checkpoint is at step %d of epoch %d, which has %d steps here: the training set or the batch size differ from the run's",
			path, pos.Step, pos.Epoch+1, t.Train.NumBatches())
	}
	if err := nn.SetState(t.Model, state); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	if err := nn.SetMasks(t.Model, masks); err != nil {
		return fmt.Errorf("train: resume from %s: %w", path, err)
	}
	byName := map[string]*nn.Param[float32]{}
	for _, p := range nn.Trainable(t.Model) {
		byName[p.Name] = p
	}
	for _, x := range buffers {
		kind, name, _ := strings.Cut(x.Name, "/")
		p := byName[name]
		if p == nil {
			return fmt.Errorf("train: resume from %s: optimiser state %q of no trainable parameter", path, x.Name)
		}
		if !autograd.SameShape(x.Shape, p.Shape) {
			return fmt.Errorf("train: resume from %s: %s of %s has shape %v, the parameter %v", path, kind, p.Name, x.Shape, p.Shape)
		}
		b := make([]float32, p.Len())
		if err := safetensors.ToFloats(x, b); err != nil {
			return fmt.Errorf("train: resume from %s: %w", path, err)
		}
		if err := opt.SetBuffer(kind, p, b); err != nil {
			return fmt.Errorf("train: resume from %s: %s: %w (the run's optimiser differs from this one's)", path, x.Name, err)
		}
	}
	opt.SetSteps(steps)
	t.history, t.pos, t.saved, t.start = hist, pos, &pos, start
	return nil
}

// ReadNetwork reads the network a file holds: a plain state
// (final.safetensors, eigendamage's pruned.safetensors, a PyTorch
// state_dict saved with safetensors) or the model/ tensors of a checkpoint.
// It returns the state and the masks (a checkpoint's mask/ tensors, or a
// state's <layer>.weight_mask tensors as torch.nn.utils.prune names them).
func ReadNetwork(path string) (state, masks []safetensors.Tensor, err error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	checkpoint := false
	for _, t := range f.Tensors {
		if strings.HasPrefix(t.Name, "model/") {
			checkpoint = true
		}
	}
	for _, t := range f.Tensors {
		switch {
		case checkpoint && strings.HasPrefix(t.Name, "model/"):
			t.Name = t.Name[len("model/"):]
			state = append(state, t)
		case checkpoint && strings.HasPrefix(t.Name, "mask/"):
			t.Name = t.Name[len("mask/"):]
			masks = append(masks, t)
		case checkpoint:
		case strings.HasSuffix(t.Name, ".weight_mask"):
			t.Name = strings.TrimSuffix(t.Name, "_mask")
			masks = append(masks, t)
		case strings.HasSuffix(t.Name, ".weight_orig"):
			// torch.nn.utils.prune keeps the unmasked weight as weight_orig.
			t.Name = strings.TrimSuffix(t.Name, "_orig")
			state = append(state, t)
		default:
			state = append(state, t)
		}
	}
	return state, masks, nil
}

// LoadNetwork reads the network in path (see ReadNetwork) into m, factored
// and slimmed layers rebuilt first, and puts its masks on m when it has
// any. It returns whether masks were loaded.
func LoadNetwork(path string, m nn.Module[float32]) (masked bool, err error) {
	state, masks, err := ReadNetwork(path)
	if err != nil {
		return false, err
	}
	if err := nn.ShapeLike(m, state); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if err := nn.SetState(m, state); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if len(masks) == 0 {
		return false, nil
	}
	if err := nn.SetMasks(m, masks); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// ShapeLikeCheckpoint gives m the structure (factored, slimmed layers) of
// the network in a checkpoint, for Resume to load it.
func ShapeLikeCheckpoint(path string, m nn.Module[float32]) error {
	state, _, err := ReadNetwork(path)
	if err != nil {
		return err
	}
	if err := nn.ShapeLike(m, state); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
