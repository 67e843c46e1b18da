package experiment

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/winnow-ml/winnow/data"
	"github.com/winnow-ml/winnow/internal/fsutil"
	"github.com/winnow-ml/winnow/nn"
	"github.com/winnow-ml/winnow/safetensors"
	"github.com/winnow-ml/winnow/train"
)

// Evaluation is what Evaluate measured of a saved network.
type Evaluation struct {
	Model      string    `json:"model"`
	Dataset    string    `json:"dataset"`
	Checkpoint string    `json:"checkpoint"`
	Masked     bool      `json:"masked"`
	Stage      Stage     `json:"result"`
	Density    float64   `json:"density"` // kept fraction of conv and linear weights
	Mean       []float32 `json:"mean"`
	Std        []float32 `json:"std"`
}

// Evaluate loads a saved network (a train checkpoint or final.safetensors,
// eigendamage's pruned.safetensors, factored layers rebuilt) into the model
// of the settings and measures it on the test split: accuracy, loss,
// parameters, FLOPs, inference time. With predictions set it also writes
// every test example's prediction there: a .csv of index, label, predicted
// class and class probabilities, or a .safetensors file of logits [N, C]
// (F32), labels and indices (I64).
func Evaluate(ctx context.Context, s Settings, checkpoint, predictions string, workers int) (*Evaluation, error) {
	s.Prune, s.Sparsity = "none", 0
	if checkpoint == "" {
		return nil, bad("checkpoint", nil, "required: the saved network")
	}
	if predictions != "" && !strings.HasSuffix(predictions, ".csv") && !strings.HasSuffix(predictions, ".safetensors") {
		return nil, bad("predictions", predictions, "want a .csv or a .safetensors file")
	}
	st, err := Open(ctx, s)
	if err != nil {
		return nil, err
	}
	masked, err := st.LoadNetwork(checkpoint)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint: %w (is --model %s the network the file holds?)", err, s.Model)
	}
	_, test := st.Loaders(max(1, workers))
	ev := &Evaluation{Model: s.Model, Dataset: s.Dataset, Checkpoint: checkpoint, Masked: masked, Mean: st.Info.Mean, Std: st.Info.Std}
	kept, total := nn.Density(st.Model)
	ev.Density = float64(kept) / float64(total)
	if ev.Stage, err = Measure(ctx, st.Model, st.InputCHW(), test); err != nil {
		return nil, err
	}
	if predictions != "" {
		if err := writePredictions(ctx, st, test, predictions); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

func writePredictions(ctx context.Context, st *Setup, test *data.Loader, path string) error {
	classes := st.Input.Classes
	var logits []float32
	var labels, indices []int64
	err := train.Predict(ctx, st.Model, test, func(b *data.Batch, l []float32, _ float64) error {
		logits = append(logits, l...)
		for i := 0; i < b.N; i++ {
			labels, indices = append(labels, int64(b.Labels[i])), append(indices, int64(b.Indices[i]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	n := len(labels)
	if filepath.Ext(path) == ".safetensors" {
		return safetensors.WriteFile(path, []safetensors.Tensor{
			safetensors.FromFloats("logits", safetensors.F32, []int{n, classes}, logits),
			safetensors.FromInt64s("labels", []int{n}, labels),
			safetensors.FromInt64s("indices", []int{n}, indices),
		}, map[string]string{"model": st.Settings.Model, "dataset": st.Settings.Dataset, "note": "indices are the test split's example numbers; softmax(logits) are the probabilities"})
	}
	return fsutil.WriteAtomic(path, func(w io.Writer) error {
		c := csv.NewWriter(w)
		head := []string{"index", "label", "predicted"}
		for k := 0; k < classes; k++ {
			head = append(head, "p"+strconv.Itoa(k))
		}
		c.Write(head)
		p := make([]float64, classes)
		for i := 0; i < n; i++ {
			row := logits[i*classes : (i+1)*classes]
			best, hi := 0, math.Inf(-1)
			for k, v := range row {
				if float64(v) > hi {
					best, hi = k, float64(v)
				}
			}
			var sum float64
			for k, v := range row {
				p[k] = math.Exp(float64(v) - hi)
				sum += p[k]
			}
			rec := []string{strconv.FormatInt(indices[i], 10), strconv.FormatInt(labels[i], 10), strconv.Itoa(best)}
			for k := range p {
				rec = append(rec, strconv.FormatFloat(p[k]/sum, 'g', 7, 64))
			}
			c.Write(rec)
		}
		c.Flush()
		return c.Error()
	})
}
