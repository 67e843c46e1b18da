package experiment

import (
	"fmt"

	"github.com/winnow-ml/winnow/nn"
)

// TrainingMemory estimates the bytes the larger of a training step and an
// evaluation pass of the run takes: a training tape keeps every float32
// activation with its adjoint and the kernels' scratch (three copies), an
// evaluation tape the activations (one and a half); the parameters come
// with their gradients, momentum and the kernels' transformed weights.
func TrainingMemory(st *Setup) int64 {
	s := nn.Summarize(st.Model, st.InputCHW()...)
	perImage := 4 * s.Activations
	params := 4 * int64(s.Params) * 5
	trainStep := int64(st.Settings.BatchSize) * perImage * 3
	eval := int64(st.Settings.evalBatch()) * perImage * 3 / 2
	return params + max(trainStep, eval)
}

// CheckTrainingMemory refuses a run whose training step or evaluation pass
// needs more than available bytes (0: no check).
func CheckTrainingMemory(st *Setup, available int64) error {
	need := TrainingMemory(st)
	if available > 0 && need > available {
		return fmt.Errorf("training %s on %dx%dx%d inputs at --batch-size %d (evaluation at %d) needs about %.1f GB, more than the %.1f GB available: lower the batch sizes",
			st.Settings.Model, st.Input.Channels, st.Input.Height, st.Input.Width, st.Settings.BatchSize, st.Settings.evalBatch(), float64(need)/1e9, float64(available)/1e9)
	}
	return nil
}
