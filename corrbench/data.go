package corrbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// maxTableBytes bounds a regression table read into memory.
const maxTableBytes = 256 << 20

// Table is a regression data set: inputs (rows) and targets.
type Table struct {
	X *mat.Dense
	Y []float64
}

// ReadTable reads numbers separated by whitespace or commas, one example
// per line (blank lines skipped; a first line that is not numeric is a
// header), with the target in column target (negative: counted from the
// end, -1 the last). Columns with one value throughout are dropped (they
// carry nothing and break standardisation).
func ReadTable(path string, target int) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("corrbench: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("corrbench: %w", err)
	}
	if st.Size() > maxTableBytes {
		return nil, fmt.Errorf("corrbench: %s: %d bytes, more than the %d a table may have", path, st.Size(), maxTableBytes)
	}
	t, err := parseTable(io.LimitReader(f, maxTableBytes), target)
	if err != nil {
		return nil, fmt.Errorf("corrbench: %s: %w", path, err)
	}
	return t, nil
}

func parseTable(r io.Reader, target int) (*Table, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var rows [][]float64
	line := 0
	for sc.Scan() {
		line++
		fields := strings.FieldsFunc(sc.Text(), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' })
		if len(fields) == 0 {
			continue
		}
		row := make([]float64, len(fields))
		bad := -1
		for i, s := range fields {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				bad = i
				break
			}
			row[i] = v
		}
		if bad >= 0 {
			if len(rows) == 0 && line == 1 {
				continue // a header
			}
			return nil, fmt.Errorf("line %d, column %d: %q is not a finite number", line, bad+1, fields[bad])
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, fmt.Errorf("line %d has %d columns, the first row %d", line, len(row), len(rows[0]))
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) < 10 {
		return nil, fmt.Errorf("%d rows: too few for a regression benchmark", len(rows))
	}
	cols := len(rows[0])
	if target < 0 {
		target += cols
	}
	if target < 0 || target >= cols || cols < 2 {
		return nil, fmt.Errorf("target column %d of %d columns", target, cols)
	}
	var keep []int
	for c := 0; c < cols; c++ {
		if c == target {
			continue
		}
		for _, r := range rows[1:] {
			if r[c] != rows[0][c] {
				keep = append(keep, c)
				break
			}
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no input column varies")
	}
	t := &Table{X: mat.NewDense(len(rows), len(keep), nil), Y: make([]float64, len(rows))}
	for i, r := range rows {
		for j, c := range keep {
			t.X.Set(i, j, r[c])
		}
		t.Y[i] = r[target]
	}
	return t, nil
}

// Split is one seed's division of a table: train, pool and test rows,
// inputs standardised with the statistics of train and pool together,
// targets with those of train (YMean, YStd undo it).
type Split struct {
	TrainX, PoolX, TestX *mat.Dense
	TrainY, PoolY, TestY []float64
	YMean, YStd          float64
}

// NewSplit draws seed's split as the official code does
// (fetch_active_learning_dataset in its al_utils.py), with NumPy's and
// scikit-learn's generators reproduced (numpyrand.go):
//
//  1. a fixed split of all rows, train_test_split with random_state 8888:
//     testFrac of them (rounded up) apart as test, the rest R;
//  2. R split again the same way into a fixed validation part V (a fifth
//     of R, rounded up) and T;
//  3. the rows of T then of the test part, shuffled by np.random.seed(seed):
//     the first |T| are this seed's T', the rest its test set;
//  4. T' then V: its first int(trainFrac n) rows the initial training set,
//     the others (V among them: the validation part stays in the pool) the
//     pool.
//
// Inputs are standardised by the statistics of training and pool rows
// together, targets by those of the training rows. Tables of more than
// 2³² rows are refused.
func NewSplit(t *Table, testFrac, trainFrac float64, seed uint64) (*Split, error) {
	n, _ := t.X.Dims()
	if seed > 1<<32-1 {
		return nil, fmt.Errorf("corrbench: split seed %d: NumPy's seeds are below 2³²", seed)
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	rest, fixedTest := trainTestSplit(all, testFrac, officialSplitSeed)
	rest, valid := trainTestSplit(rest, officialValidFrac, officialSplitSeed)
	union := append(append([]int(nil), rest...), fixedTest...)
	order := newMT19937(uint32(seed)).permutation(len(union))
	var shuffled []int
	for _, o := range order {
		shuffled = append(shuffled, union[o])
	}
	trainAll := append(append([]int(nil), shuffled[:len(rest)]...), valid...)
	test := shuffled[len(rest):]
	nTrain := int(float64(n) * trainFrac)
	if len(test) < 2 || nTrain < 2 || len(trainAll)-nTrain < 1 {
		return nil, fmt.Errorf("corrbench: %d rows do not split into %g test and %g train", n, testFrac, trainFrac)
	}
	train, pool := trainAll[:nTrain], trainAll[nTrain:]
	xStatsRows := append(append([]int(nil), train...), pool...)
	mean, std := columnStats(t.X, xStatsRows)
	s := &Split{}
	pick := func(rows []int) (*mat.Dense, []float64) {
		_, d := t.X.Dims()
		x := mat.NewDense(len(rows), d, nil)
		y := make([]float64, len(rows))
		for i, r := range rows {
			for j := 0; j < d; j++ {
				x.Set(i, j, (t.X.At(r, j)-mean[j])/std[j])
			}
			y[i] = t.Y[r]
		}
		return x, y
	}
	s.TrainX, s.TrainY = pick(train)
	s.PoolX, s.PoolY = pick(pool)
	s.TestX, s.TestY = pick(test)
	for _, v := range s.TrainY {
		s.YMean += v / float64(len(s.TrainY))
	}
	for _, v := range s.TrainY {
		s.YStd += (v - s.YMean) * (v - s.YMean) / float64(len(s.TrainY))
	}
	s.YStd = math.Sqrt(s.YStd)
	if !(s.YStd > 0) {
		s.YStd = 1
	}
	for _, ys := range [][]float64{s.TrainY, s.PoolY, s.TestY} {
		for i := range ys {
			ys[i] = (ys[i] - s.YMean) / s.YStd
		}
	}
	return s, nil
}

// The official split's fixed seed and validation fraction.
const (
	officialSplitSeed = 8888
	officialValidFrac = 0.2
)

func columnStats(x *mat.Dense, rows []int) (mean, std []float64) {
	_, d := x.Dims()
	mean, std = make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		for _, r := range rows {
			mean[j] += x.At(r, j) / float64(len(rows))
		}
		for _, r := range rows {
			v := x.At(r, j) - mean[j]
			std[j] += v * v / float64(len(rows))
		}
		std[j] = math.Sqrt(std[j])
		if !(std[j] > 0) {
			std[j] = 1
		}
	}
	return mean, std
}

// Toy is the meta-correlation study's data set: inputs N(0, I_d), latent
// f drawn from the ReLU-NNGP prior, targets with noise variance 0.01, split
// into 5d training, 500 pool and 200 test points, and the oracle's exact
// posterior (mean, covariance of f) over the pool then the test points.
type Toy struct {
	Split
	Oracle Predictive
}

// ToyNoise is the toy data's noise variance.
const ToyNoise = 0.01

// NewToy draws the toy data of dimension d: the inputs and f from dataSeed,
// the split from splitSeed (the official code: one draw, 50 splits).
func NewToy(d int, dataSeed, splitSeed uint64) (*Toy, error) {
	nTrain, nPool, nTest := 5*d, 500, 200
	n := nTrain + nPool + nTest
	rng := rand.New(rand.NewPCG(dataSeed, 0x70))
	x := randX(rng, n, d)
	k := OracleNNGP().Matrix(x, x)
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := k.At(i, j)
			if i == j {
				v += 1e-8
			}
			sym.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(sym) {
		return nil, fmt.Errorf("corrbench: the toy prior covariance is not positive definite")
	}
	var l mat.TriDense
	chol.LTo(&l)
	z := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		z.SetVec(i, rng.NormFloat64())
	}
	var f mat.VecDense
	f.MulVec(&l, z)
	y := make([]float64, n)
	for i := range y {
		y[i] = f.AtVec(i) + math.Sqrt(ToyNoise)*rng.NormFloat64()
	}
	perm := rand.New(rand.NewPCG(splitSeed, 0x71)).Perm(n)
	rows := func(idx []int) (*mat.Dense, []float64) {
		out := mat.NewDense(len(idx), d, nil)
		ys := make([]float64, len(idx))
		for i, r := range idx {
			out.SetRow(i, x.RawRowView(r))
			ys[i] = y[r]
		}
		return out, ys
	}
	t := &Toy{}
	t.TrainX, t.TrainY = rows(perm[:nTrain])
	t.PoolX, t.PoolY = rows(perm[nTrain : nTrain+nPool])
	t.TestX, t.TestY = rows(perm[nTrain+nPool:])
	t.YStd = 1
	oracle := &GP{Kernel: OracleNNGP(), Noise: ToyNoise}
	if err := oracle.Fit(context.Background(), t.TrainX, t.TrainY); err != nil {
		return nil, err
	}
	var err error
	t.Oracle, err = oracle.Predict(stack(t.PoolX, t.TestX))
	return t, err
}

// stack puts the rows of b under those of a.
func stack(a, b *mat.Dense) *mat.Dense {
	ra, d := a.Dims()
	rb, _ := b.Dims()
	out := mat.NewDense(ra+rb, d, nil)
	out.Slice(0, ra, 0, d).(*mat.Dense).Copy(a)
	out.Slice(ra, ra+rb, 0, d).(*mat.Dense).Copy(b)
	return out
}

func randX(rng *rand.Rand, n, d int) *mat.Dense {
	x := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
	}
	return x
}
