package data_test

import (
	"context"
	"fmt"

	"github.com/winnow-ml/winnow/data"
)

// Open the built-in MNIST with the checks a run needs, and take the first
// shuffled training batch through the paper's pipeline.
func ExampleOpenSplits() {
	s, err := data.OpenSplits("mnist", "", data.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Train.Len(), "training and", s.Test.Len(), "test examples of", s.Train.Classes(), "classes")
	l := &data.Loader{Dataset: data.Limit(s.Train, 1000), Transform: data.PipelineFor(s.Info, true), BatchSize: 32, Shuffle: true, Seed: 1}
	for b, err := range l.Batches(context.Background(), 0) {
		if err != nil {
			panic(err)
		}
		fmt.Println("batch", b.Shape(), "labels", b.Labels[:5])
		break
	}
	// Output:
	// 60000 training and 10000 test examples of 10 classes
	// batch [32 1 28 28] labels [4 6 3 7 1]
}
