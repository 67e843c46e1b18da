package autograd

import (
	"fmt"
	"math"
)

// SoftmaxCrossEntropy returns the mean over the batch of the cross-entropy
// of softmax(logits/T) against integer labels: with z = logits/T and
// p = softmax(z) per row, L = (1/B) sum_i -log p[i, label_i]. GraSP scores
// with T = 200; training uses T = 1.
//
//	tangent-forward:  z' = logits'/T;  p' = p (z' - <p, z'>);  L' = (1/B) sum_i <p_i - e_i, z'_i>
//	backward:         dlogits += dL (p - onehot)/(B T)
//	tangent-backward: R{dlogits} += (dL p' + R{dL} (p - onehot))/(B T)
//
// Labels outside [0, C) panic: datasets check labels when they load.
func SoftmaxCrossEntropy[T Float](t *Tape[T], logits *Var[T], labels []int32, temperature T) *Var[T] {
	return SmoothedSoftmaxCrossEntropy(t, logits, labels, temperature, 0)
}

// SmoothedSoftmaxCrossEntropy is SoftmaxCrossEntropy against the smoothed
// targets q = (1-ε) onehot + ε/C, as torch.nn.CrossEntropyLoss with
// label_smoothing ε: L = (1/B) sum_i [logsumexp(z_i) - <q_i, z_i>]. Its
// derivatives are those above with q in place of the one-hot rows; ε = 0
// computes exactly SoftmaxCrossEntropy.
func SmoothedSoftmaxCrossEntropy[T Float](t *Tape[T], logits *Var[T], labels []int32, temperature, smoothing T) *Var[T] {
	if len(logits.Shape) != 2 || logits.Shape[0] != len(labels) || !(temperature > 0) || !(smoothing >= 0 && smoothing < 1) {
		panic(fmt.Sprintf("autograd: SoftmaxCrossEntropy: logits %v, %d labels, temperature %v, smoothing %v", logits.Shape, len(labels), temperature, smoothing))
	}
	b, c := logits.Shape[0], logits.Shape[1]
	loss := t.newVar([]int{1}, logits)
	t.record("softmax_cross_entropy", loss.Shape, int64(4*b*c), nil)
	if t.cfg.shapesOnly {
		return loss
	}
	p := t.alloc(b * c)
	var pt []T
	if loss.Tangent != nil {
		pt = t.alloc(b * c)
	}
	var total, totalT float64
	for i := 0; i < b; i++ {
		y := int(labels[i])
		if y < 0 || y >= c {
			panic(fmt.Sprintf("autograd: SoftmaxCrossEntropy: label %d of example %d outside [0, %d)", y, i, c))
		}
		row, pr := logits.Value[i*c:(i+1)*c], p[i*c:(i+1)*c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v)/float64(temperature))
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v)/float64(temperature) - mx)
			pr[j] = T(e)
			sum += e
		}
		for j := range pr {
			pr[j] = T(float64(pr[j]) / sum)
		}
		total += mx + math.Log(sum) - float64(row[y])/float64(temperature)
		if smoothing != 0 {
			// <q, z> - z_y = ε (mean_j z_j - z_y)
			var mean float64
			for _, v := range row {
				mean += float64(v) / float64(temperature)
			}
			mean /= float64(c)
			total -= float64(smoothing) * (mean - float64(row[y])/float64(temperature))
		}
		if pt == nil {
			continue
		}
		zt, ptr := logits.Tangent[i*c:(i+1)*c], pt[i*c:(i+1)*c]
		var dot T // <p, z'>
		for j, v := range zt {
			dot += pr[j] * v / temperature
		}
		for j, v := range zt {
			ptr[j] = pr[j] * (v/temperature - dot)
		}
		totalT += float64(dot - zt[y]/temperature)
		if smoothing != 0 {
			var mean T
			for _, v := range zt {
				mean += v / temperature
			}
			totalT -= float64(smoothing * (mean/T(c) - zt[y]/temperature))
		}
	}
	loss.Value[0] = T(total / float64(b))
	if loss.Tangent != nil {
		loss.Tangent[0] = T(totalT / float64(b))
	}
	scale := 1 / (T(b) * temperature)
	t.push(loss, func() {
		dl := loss.Grad[0] * scale
		var rdl T
		if loss.RGrad != nil {
			rdl = loss.RGrad[0] * scale
		}
		for i := 0; i < b; i++ {
			y := int(labels[i])
			for j := 0; j < c; j++ {
				k := i*c + j
				d := p[k]
				if smoothing != 0 {
					d -= smoothing / T(c)
					if j == y {
						d -= 1 - smoothing
					}
				} else if j == y {
					d--
				}
				logits.Grad[k] += dl * d
				if logits.RGrad != nil {
					r := rdl * d
					if pt != nil {
						r += dl * pt[k]
					}
					logits.RGrad[k] += r
				}
			}
		}
	})
	return loss
}
