package autograd

import (
	"fmt"

	"github.com/winnow-ml/winnow/internal/kernels"
	"github.com/winnow-ml/winnow/internal/mem"
)

// Option configures a Tape.
type Option func(*config)

type config struct {
	hvp        bool
	noGrad     bool
	shapesOnly bool
	keepStats  bool
	keepGrads  bool
	rgradOnly  bool
	recompute  bool
}

// HVP makes the tape carry forward tangents and tangents of adjoints, so that
// Backward yields Hessian-vector products in every leaf's RGrad.
func HVP() Option { return func(c *config) { c.hvp = true } }

// NoGrad makes the tape record nothing for backward: inference only.
func NoGrad() Option { return func(c *config) { c.noGrad = true } }

// ShapesOnly makes every op compute output shapes and operation records but
// no values: for counting parameters and FLOPs without running the network.
func ShapesOnly() Option { return func(c *config) { c.shapesOnly, c.noGrad = true, true } }

// KeepRunningStats stops batch normalisation in training mode from updating
// its running statistics: scoring passes leave the model as it was.
func KeepRunningStats() Option { return func(c *config) { c.keepStats = true } }

// KeepGrads keeps the gradients of every op's output after Backward (by
// default an output's Grad and RGrad are handed to later outputs once the
// rule of the op that made it has run, as PyTorch frees them): for reading
// the gradients of intermediate values, as K-FAC does.
func KeepGrads() Option { return func(c *config) { c.keepGrads = true } }

// RGradOnly, on an HVP tape, says the weights' gradients are not wanted,
// only their R{dx}: convolutions and linear layers skip the products that
// would add to their weights' (and biases') Grad, which is left as it was.
// For Hessian-vector products once the gradient is known, as GraSP's
// second pass.
func RGradOnly() Option { return func(c *config) { c.rgradOnly = true } }

// Recompute keeps fewer activations on a tape with gradients: the outputs
// of BatchNormReLU in training mode are not kept for backward but recomputed
// from the op's input (kept anyway) when an op needs them again, forward or
// backward, at most a few held at a time. Recomputing repeats the forward
// pass's arithmetic, so values, gradients and Hessian-vector products are
// unchanged. Those outputs' values are valid only while the op that made
// them or the next op runs: for passes after which only the leaves'
// gradients are read, as pruning's scoring passes.
func Recompute() Option { return func(c *config) { c.recompute = true } }

// Record describes one executed operation, for FLOP and parameter counts.
type Record struct {
	Op     string
	Out    []int    // output shape
	FLOPs  int64    // floating-point operations; a multiply-add counts 2
	Params []string // names of the leaves holding the op's weights, if any
}

// Tape records operations for reverse-mode differentiation and owns the
// buffers of one pass.
type Tape[T Float] struct {
	cfg      config
	backward []backwardRule[T]
	records  []Record
	values   arena[T] // op outputs' values
	tangents arena[T] // and tangents, apart: passes with and without tangents reuse the same values
	floats   arena[T] // ops' other buffers
	ints     arena[int32]
	conv     kernels.Workspace[T] // the convolutions' scratch and transformed weights
	onLeaf   func(*Var[T])        // called with each leaf whose gradient is complete (OnLeafGrad)
	free     [][]T                // gradient buffers released during backward, for reuse
	noBuffer []T                  // stands for a gradient not yet materialised: not nil, empty

	// With Recompute: the recomputable outputs holding values, oldest
	// first, and those the running op reads, which must stay.
	resident []*Var[T]
	pinned   []*Var[T]
	pins     []*Var[T]
	largest  int // the most elements of an op output this pass: the pool's buffer size
}

// residentMax is how many recomputable outputs hold values at a time
// (more while the running op needs them).
const residentMax = 1

// remat is what a recomputable output needs to come back.
type remat struct {
	recompute func() // writes Value (and Tangent) again
	tangent   bool   // the output carries a tangent
	evicted   bool   // Value (and Tangent) are gone
	keep      bool   // another Var shares the buffers: never evicted
	ruleFree  bool   // the op's own backward rule does without them
}

// NewTape returns an empty tape.
func NewTape[T Float](opts ...Option) *Tape[T] {
	t := &Tape[T]{}
	for _, o := range opts {
		o(&t.cfg)
	}
	return t
}

// HVPMode reports whether the tape computes Hessian-vector products.
func (t *Tape[T]) HVPMode() bool { return t.cfg.hvp }

// Grads reports whether the tape records backward rules.
func (t *Tape[T]) Grads() bool { return !t.cfg.noGrad }

// Records lists the operations run since the last Reset.
func (t *Tape[T]) Records() []Record { return t.records }

// Reset forgets the recorded pass. Buffers are kept and handed out again in
// the same order, so the values of earlier Vars become invalid. Given
// options, the tape runs its next passes with those instead of the ones it
// had (as NewTape's), keeping its buffers: a gradient pass and then a
// Hessian-vector pass of the same network share one tape's memory.
func (t *Tape[T]) Reset(opts ...Option) {
	if len(opts) > 0 {
		t.cfg = config{}
		for _, o := range opts {
			o(&t.cfg)
		}
	}
	for _, v := range t.resident {
		t.giveBack(v)
	}
	clear(t.resident)
	t.resident, t.pinned = t.resident[:0], nil
	clear(t.backward)
	t.backward = t.backward[:0]
	t.records = t.records[:0]
	t.values.next, t.tangents.next, t.floats.next, t.ints.next = 0, 0, 0, 0
}

// arena hands out buffers in order and, after reset, the same buffers again
// in the same order: a pass of the same shapes allocates nothing new.
type arena[E any] struct {
	bufs [][]E
	next int
}

func (a *arena[E]) get(n int) []E {
	if a.next < len(a.bufs) && cap(a.bufs[a.next]) >= n {
		b := a.bufs[a.next][:n]
		a.next++
		return b
	}
	b := mem.Zeroed[E](n)
	if a.next < len(a.bufs) {
		a.bufs[a.next] = b
	} else {
		a.bufs = append(a.bufs, b)
	}
	a.next++
	return b
}

// alloc returns a buffer of n elements with unspecified contents.
func (t *Tape[T]) alloc(n int) []T { return t.floats.get(n) }

func (t *Tape[T]) allocInt(n int) []int32 { return t.ints.get(n) }

// Input puts data on the tape as a constant: no gradient, zero tangent.
// The Var shares data.
func (t *Tape[T]) Input(data []T, shape ...int) *Var[T] {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("autograd: Input: %d values for shape %v", len(data), shape))
	}
	return &Var[T]{Shape: append([]int(nil), shape...), Value: data}
}

// Leaf puts a parameter on the tape. It shares value; grad (if not nil)
// accumulates the gradient; on an HVP tape, tangent (nil for zero) is the
// parameter's part of the direction v and rgrad accumulates (H v).
func (t *Tape[T]) Leaf(name string, value, grad, tangent, rgrad []T, shape ...int) *Var[T] {
	n := numel(shape)
	if len(value) != n || (grad != nil && len(grad) != n) || (tangent != nil && len(tangent) != n) || (rgrad != nil && len(rgrad) != n) {
		panic(fmt.Sprintf("autograd: Leaf %s: buffers do not match shape %v", name, shape))
	}
	v := &Var[T]{Name: name, Shape: append([]int(nil), shape...), Value: value, leaf: true}
	if t.cfg.noGrad {
		return v
	}
	v.Grad = grad
	if t.cfg.hvp {
		v.Tangent = tangent
		if grad != nil {
			if rgrad == nil {
				panic("autograd: Leaf " + name + ": an HVP tape needs an rgrad buffer")
			}
			v.RGrad = rgrad
		}
	}
	return v
}

// backwardRule is an op's backward rule with its output. A rule that sets
// writes its inputs' gradients itself (overwriting those still pending
// zeros); for the others the tape first turns pending zeros into zeros.
type backwardRule[T Float] struct {
	out  *Var[T]
	rule func()
	sets bool
	// reads, when not nil, are the only Vars whose values the rule reads
	// (else its inputs and output): on a Recompute tape, evicted outputs
	// among the others are not brought back for it.
	reads []*Var[T]
}

// accumulate makes v's gradients ready to be added to: pending zeros
// become zeros.
func (t *Tape[T]) accumulate(v *Var[T]) {
	if v != nil && v.zeroGrad {
		t.materialize(v, true)
	}
}

// overwrite reports whether v's gradients are pending zeros, which the
// caller must then overwrite entirely (Grad, and RGrad if any) instead of
// adding to; afterwards they are not pending either way.
func (t *Tape[T]) overwrite(v *Var[T]) bool {
	if !v.zeroGrad {
		return false
	}
	t.materialize(v, false)
	return true
}

// materialize gives v's pending gradients buffers (zeroed if asked).
func (t *Tape[T]) materialize(v *Var[T], zero bool) {
	n := numel(v.Shape)
	v.Grad = t.gradBuffer(n, zero)
	if v.RGrad != nil {
		v.RGrad = t.gradBuffer(n, zero)
	}
	v.zeroGrad = false
}

// gradBuffer returns a buffer of n elements, a released one if one is large
// enough (the smallest such), else a new one.
func (t *Tape[T]) gradBuffer(n int, zero bool) []T {
	best := -1
	for i, b := range t.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(t.free[best])) {
			best = i
		}
	}
	if best < 0 {
		// On a Recompute tape a large pool buffer is as large as the
		// largest output, so that any one serves any later need: the pool
		// grows to the most large buffers held at once, not to that many
		// of each size.
		size := n
		if 4*n >= t.largest {
			size = max(n, t.largest)
		}
		return mem.Zeroed[T](size)[:n] // zeroed
	}
	b := t.free[best][:n]
	t.free[best] = t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	if zero {
		clear(b)
	}
	return b
}

// handOver gives from's gradient buffers to to, when to's are pending
// zeros and from's are the tape's and dead after the running rule (the
// rule would otherwise copy them): true if it did. from is left with none.
func (t *Tape[T]) handOver(from, to *Var[T]) bool {
	if t.cfg.keepGrads || !to.zeroGrad || !from.ownGrad || from.zeroGrad || len(from.Grad) != len(to.Value) ||
		(to.RGrad == nil) != (len(from.RGrad) == 0) {
		return false
	}
	to.Grad, to.RGrad = from.Grad, from.RGrad
	from.Grad = t.noBuffer
	if from.RGrad != nil {
		from.RGrad = t.noBuffer
	}
	to.zeroGrad = false
	return true
}

// pendingGrads makes v's gradients (and R{dx} with rgrad) pending zeros:
// buffers come when the first rule writes them.
func (t *Tape[T]) pendingGrads(v *Var[T], rgrad bool) {
	if t.noBuffer == nil {
		t.noBuffer = make([]T, 0)
	}
	v.Grad = t.noBuffer
	if rgrad {
		v.RGrad = t.noBuffer
	}
	v.zeroGrad, v.ownGrad = true, true
}

// release hands v's gradient buffers, if the tape gave them, to later
// outputs.
func (t *Tape[T]) release(v *Var[T]) {
	if t.cfg.keepGrads || !v.ownGrad || v.zeroGrad || len(v.Grad) == 0 {
		return
	}
	t.free = append(t.free, v.Grad)
	v.Grad = t.noBuffer
	if len(v.RGrad) > 0 {
		t.free = append(t.free, v.RGrad)
		v.RGrad = t.noBuffer
	}
}

// newVar makes an op's output. Its value buffer is uninitialised (every op
// writes all of it); Grad and RGrad, when a gradient flows, are pending
// zeros: the first backward rule to reach them writes rather than adds, and
// no pass clears them first. The tangent is allocated (uninitialised) when
// any input carries one.
func (t *Tape[T]) newVar(shape []int, inputs ...*Var[T]) *Var[T] {
	return t.newOutput(shape, false, inputs...)
}

// newOutput is newVar; with recomputable, on a Recompute tape with
// gradients flowing, the output's values are held only for a while (the
// op sets v.remat.recompute).
func (t *Tape[T]) newOutput(shape []int, recomputable bool, inputs ...*Var[T]) *Var[T] {
	n := numel(shape)
	v := &Var[T]{Shape: shape, inputs: inputs}
	if t.cfg.shapesOnly {
		return v
	}
	t.pinned = inputs
	for _, in := range inputs {
		t.ensure(in)
	}
	grad, tan := false, false
	if !t.cfg.noGrad {
		for _, in := range inputs {
			if in == nil {
				continue
			}
			grad = grad || in.needsGrad()
			tan = tan || in.Tangent != nil
			if in.leaf && in.needsGrad() {
				in.pending++
			}
		}
	}
	tan = tan && t.cfg.hvp
	if t.cfg.recompute {
		t.largest = max(t.largest, n)
	}
	if recomputable && grad && t.cfg.recompute && !t.cfg.keepGrads {
		v.remat = &remat{tangent: tan}
		t.hold(v)
	} else {
		v.Value = t.values.get(n)
		if tan {
			v.Tangent = t.tangents.get(n)
		}
	}
	if grad {
		t.pendingGrads(v, t.cfg.hvp)
	}
	return v
}

// hold gives recomputable v buffers for its values from the gradient pool,
// first evicting the oldest resident output the running op does not need
// when residentMax hold values.
func (t *Tape[T]) hold(v *Var[T]) {
	for len(t.resident) >= residentMax {
		i := 0
		for i < len(t.resident) && (t.resident[i].remat.keep || t.isPinned(t.resident[i])) {
			i++
		}
		if i == len(t.resident) {
			break
		}
		e := t.resident[i]
		t.giveBack(e)
		e.remat.evicted = true
		t.resident = append(t.resident[:i], t.resident[i+1:]...)
	}
	n := numel(v.Shape)
	v.Value = t.gradBuffer(n, false)
	if v.remat.tangent {
		v.Tangent = t.gradBuffer(n, false)
	}
	t.resident = append(t.resident, v)
}

// giveBack returns a recomputable output's value buffers to the pool.
func (t *Tape[T]) giveBack(v *Var[T]) {
	t.free = append(t.free, v.Value)
	if v.Tangent != nil {
		t.free = append(t.free, v.Tangent)
	}
	v.Value, v.Tangent = nil, nil
}

func (t *Tape[T]) isPinned(v *Var[T]) bool {
	for _, p := range t.pinned {
		if p == v {
			return true
		}
	}
	return false
}

// ensure gives v its values back if they were evicted, its own inputs'
// first.
func (t *Tape[T]) ensure(v *Var[T]) {
	if v == nil || v.remat == nil || !v.remat.evicted {
		return
	}
	pinned := t.pinned
	t.pinned = append(append([]*Var[T]{v}, v.inputs...), pinned...)
	for _, in := range v.inputs {
		t.ensure(in)
	}
	t.hold(v)
	v.remat.evicted = false
	v.remat.recompute()
	t.pinned = pinned
}

// done says the running backward rule no longer reads v's values: a
// recomputable v gives its buffers back now, for the rule's own gradients
// (it is recomputed if a later rule reads it).
func (t *Tape[T]) done(v *Var[T]) {
	if v.remat == nil || v.remat.keep || v.remat.evicted {
		return
	}
	for i, r := range t.resident {
		if r == v {
			t.giveBack(v)
			v.remat.evicted = true
			t.resident = append(t.resident[:i], t.resident[i+1:]...)
			return
		}
	}
}

// keep makes v hold its values for good (another Var shares them).
func (t *Tape[T]) keep(v *Var[T]) {
	if v.remat != nil {
		t.ensure(v)
		v.remat.keep = true
	}
}

// push appends a backward rule that adds to its inputs' gradients, when a
// gradient flows to out.
func (t *Tape[T]) push(out *Var[T], rule func()) {
	if out.Grad != nil {
		t.backward = append(t.backward, backwardRule[T]{out: out, rule: rule})
	}
}

// pushReading is push for a rule that reads the values of reads only.
func (t *Tape[T]) pushReading(out *Var[T], reads []*Var[T], rule func()) {
	if out.Grad != nil {
		t.backward = append(t.backward, backwardRule[T]{out: out, rule: rule, reads: append([]*Var[T]{}, reads...)})
	}
}

// pushSetting appends a backward rule that calls overwrite or accumulate
// on each of its inputs before writing their gradients.
func (t *Tape[T]) pushSetting(out *Var[T], rule func()) {
	if out.Grad != nil {
		t.backward = append(t.backward, backwardRule[T]{out: out, rule: rule, sets: true})
	}
}

func (t *Tape[T]) record(op string, out []int, flops int64, params ...*Var[T]) {
	r := Record{Op: op, Out: out, FLOPs: flops}
	for _, p := range params {
		if p != nil && p.Name != "" {
			r.Params = append(r.Params, p.Name)
		}
	}
	t.records = append(t.records, r)
}

// Backward runs the recorded backward rules from the scalar loss, seeding
// dL/dL = 1 (and R{dL} = 0). Gradients accumulate into the leaves' Grad and,
// on an HVP tape, Hessian-vector products into their RGrad.
func (t *Tape[T]) Backward(loss *Var[T]) {
	if len(loss.Value) != 1 {
		panic(fmt.Sprintf("autograd: Backward: loss has shape %v, want a scalar", loss.Shape))
	}
	if loss.Grad == nil {
		panic("autograd: Backward: no gradient flows to the loss (no leaf with a gradient, or a NoGrad tape)")
	}
	t.BackwardFrom(loss, []T{1})
}

// BackwardFrom runs the recorded backward rules from any output v, seeding
// its gradient with seed (a vector-Jacobian product: the leaves' Grad
// accumulate seedᵀ ∂v/∂leaf; with seed all ones, the gradient of the sum of
// v's entries).
func (t *Tape[T]) BackwardFrom(v *Var[T], seed []T) {
	if v.Grad == nil {
		panic("autograd: BackwardFrom: no gradient flows to v (no leaf with a gradient, or a NoGrad tape)")
	}
	t.accumulate(v)
	if len(seed) != len(v.Grad) {
		panic(fmt.Sprintf("autograd: BackwardFrom: %d seed values for shape %v", len(seed), v.Shape))
	}
	copy(v.Grad, seed)
	for i := len(t.backward) - 1; i >= 0; i-- {
		r := t.backward[i]
		if t.cfg.recompute {
			// The rule reads its inputs' values and, most, its output's.
			switch {
			case r.reads != nil:
				t.pins = append(t.pins[:0], r.reads...)
			default:
				t.pins = append(t.pins[:0], r.out.inputs...)
				if r.out.remat == nil || !r.out.remat.ruleFree {
					t.pins = append(t.pins, r.out)
				}
			}
			t.pinned = t.pins
			for _, v := range t.pins {
				t.ensure(v)
			}
		}
		t.accumulate(r.out) // no rule reached it: zero
		if !r.sets {
			for _, in := range r.out.inputs {
				t.accumulate(in)
			}
		}
		r.rule()
		t.release(r.out)
		if t.onLeaf != nil {
			for _, in := range r.out.inputs {
				if in != nil && in.leaf && in.pending > 0 {
					if in.pending--; in.pending == 0 {
						t.onLeaf(in)
					}
				}
			}
		}
	}
	t.release(v)
}

// OnLeafGrad has Backward call f with each leaf as soon as its gradient is
// complete (every rule that uses it has run), while the rules of earlier
// ops are still to run: a data-parallel run starts summing gradients over
// its processes then, as PyTorch's DDP does. nil turns it off.
func (t *Tape[T]) OnLeafGrad(f func(v *Var[T])) { t.onLeaf = f }
