package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning rate of each epoch (0-based) of a run.
type Schedule interface {
	LR(base float64, epoch, epochs int) float64
	String() string
}

// StepAtFractions multiplies the rate by Gamma at each fraction of the run:
// GraSP's schedule is x0.1 at 50% and x0.01 at 75% of the epochs.
type StepAtFractions struct {
	Fractions []float64
	Gamma     float64
}

// LR implements Schedule: the rate drops at epoch floor(f*epochs) for each
// f, but never before the second epoch (a one-epoch run trains at the base
// rate; the official GraSP code would use base*0.01 there).
func (s StepAtFractions) LR(base float64, epoch, epochs int) float64 {
	lr := base
	for _, f := range s.Fractions {
		if epoch >= max(1, int(f*float64(epochs))) {
			lr *= s.Gamma
		}
	}
	return lr
}

func (s StepAtFractions) String() string {
	var parts []string
	for _, f := range s.Fractions {
		parts = append(parts, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return "step:" + strings.Join(parts, ",")
}

// MultiStep multiplies the rate by Gamma at each of the given epochs.
type MultiStep struct {
	Epochs []int
	Gamma  float64
}

// LR implements Schedule.
func (s MultiStep) LR(base float64, epoch, _ int) float64 {
	lr := base
	for _, e := range s.Epochs {
		if epoch >= e {
			lr *= s.Gamma
		}
	}
	return lr
}

func (s MultiStep) String() string {
	var parts []string
	for _, e := range s.Epochs {
		parts = append(parts, strconv.Itoa(e))
	}
	return "epochs:" + strings.Join(parts, ",")
}

// Cosine anneals the rate from base to 0 over the run: base (1 + cos(pi e/E))/2.
type Cosine struct{}

// LR implements Schedule.
func (Cosine) LR(base float64, epoch, epochs int) float64 {
	return base * (1 + math.Cos(math.Pi*float64(epoch)/float64(epochs))) / 2
}

func (Cosine) String() string { return "cosine" }

// Constant keeps the base rate.
type Constant struct{}

// LR implements Schedule.
func (Constant) LR(base float64, _, _ int) float64 { return base }

func (Constant) String() string { return "constant" }

// ParseSchedule reads a schedule: "step" (GraSP's: x0.1 at 50% and 75%),
// "step:F1,F2,..." (x0.1 at those fractions), "epochs:E1,E2,..." (x0.1 at
// those epochs), "cosine" or "constant", any of them followed by
// "+warmup:E" (a linear warm-up over E epochs, see Warmup).
func ParseSchedule(s string) (Schedule, error) {
	if base, w, ok := strings.Cut(s, "+warmup:"); ok {
		e, err := strconv.ParseFloat(w, 64)
		if err != nil || !(e > 0) || math.IsInf(e, 0) {
			return nil, fmt.Errorf("schedule %q: warm-up %q is not a positive number of epochs", s, w)
		}
		then, err := ParseSchedule(base)
		if err != nil {
			return nil, err
		}
		if _, nested := then.(Warmup); nested {
			return nil, fmt.Errorf("schedule %q: one warm-up at most", s)
		}
		return Warmup{Epochs: e, Then: then}, nil
	}
	name, args, _ := strings.Cut(s, ":")
	switch name {
	case "step":
		if args == "" {
			return StepAtFractions{[]float64{0.5, 0.75}, 0.1}, nil
		}
		var fs []float64
		for _, a := range strings.Split(args, ",") {
			f, err := strconv.ParseFloat(a, 64)
			if err != nil || f <= 0 || f >= 1 {
				return nil, fmt.Errorf("schedule %q: %q is not a fraction in (0, 1)", s, a)
			}
			fs = append(fs, f)
		}
		return StepAtFractions{fs, 0.1}, nil
	case "epochs":
		var es []int
		for _, a := range strings.Split(args, ",") {
			e, err := strconv.Atoi(a)
			if err != nil || e < 1 {
				return nil, fmt.Errorf("schedule %q: %q is not an epoch", s, a)
			}
			es = append(es, e)
		}
		return MultiStep{es, 0.1}, nil
	case "cosine":
		return Cosine{}, nil
	case "constant":
		return Constant{}, nil
	}
	return nil, fmt.Errorf("unknown schedule %q (step, step:F1,F2, epochs:E1,E2, cosine, constant; +warmup:E after any)", s)
}

// StepSchedule is a Schedule that changes the rate within epochs. The
// trainer sets LRAt before every step; LR gives the rate at an epoch's
// first step of a nominal run and serves only to compare schedules.
type StepSchedule interface {
	Schedule
	// LRAt is the rate of step (0-based) of epoch (0-based), an epoch
	// having stepsPerEpoch steps and the run epochs epochs.
	LRAt(base float64, epoch, step, stepsPerEpoch, epochs int) float64
}

// Warmup raises the rate linearly over the first Epochs (a fraction
// allowed) of the run's steps, the k-th step (1-based) of W at k/W of the
// rate, then follows Then. With Then Cosine the annealing runs over the
// steps after the warm-up, step by step, as "cosine with warm-up" (the
// transformers library's get_cosine_schedule_with_warmup, whose first step
// is at 1/W rather than 0): base (1 + cos(π (s-W)/(S-W)))/2 at step s of S.
// With any other schedule the ramp multiplies that schedule's rate.
type Warmup struct {
	Epochs float64
	Then   Schedule
}

// warmupSteps is W: at least one step.
func (w Warmup) warmupSteps(stepsPerEpoch int) int {
	return max(1, int(math.Round(w.Epochs*float64(stepsPerEpoch))))
}

// LRAt implements StepSchedule.
func (w Warmup) LRAt(base float64, epoch, step, stepsPerEpoch, epochs int) float64 {
	s, total, ws := epoch*stepsPerEpoch+step, epochs*stepsPerEpoch, w.warmupSteps(stepsPerEpoch)
	if _, cosine := w.Then.(Cosine); cosine {
		if s < ws {
			return base * float64(s+1) / float64(ws)
		}
		return base * (1 + math.Cos(math.Pi*float64(s-ws)/float64(max(1, total-ws)))) / 2
	}
	lr := w.Then.LR(base, epoch, epochs)
	if s < ws {
		lr *= float64(s+1) / float64(ws)
	}
	return lr
}

// LR implements Schedule: the rate at the epoch's first step with 1000
// steps an epoch.
func (w Warmup) LR(base float64, epoch, epochs int) float64 {
	return w.LRAt(base, epoch, 0, 1000, epochs)
}

func (w Warmup) String() string {
	return w.Then.String() + "+warmup:" + strconv.FormatFloat(w.Epochs, 'g', -1, 64)
}
