// Package experiment runs and reports comparisons of pruning methods and
// sparsity levels: a sweep is every combination of method, sparsity and
// seed, each a training run in its own folder; a report aggregates the
// folders into tables (final-epoch accuracy, mean and standard deviation
// over seeds, with best-epoch accuracy in its own labelled column) and
// plots.
package experiment
