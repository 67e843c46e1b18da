// Package corrbench measures how well Bayesian regression models estimate
// posterior predictive correlations (Wang, Sun, Grosse, "Beyond Marginal
// Uncertainty: How Accurately can Bayesian Regression Models Estimate
// Posterior Predictive Correlations?", AISTATS 2021).
//
// A Model gives, for a set of inputs, a predictive mean and a full
// predictive covariance of the latent function, and its observation noise
// variance. The metrics compare models' correlations:
//
//   - MetaCorrelation: Pearson and Spearman correlation between a model's
//     predictive correlations and an oracle's, over all pool x test pairs
//     (the toy study, where the oracle is the exact posterior of the GP the
//     data were drawn from);
//   - XLL: for each test point, the 5 test points most correlated with it
//     (in absolute value) under a reference model; the joint Gaussian
//     log-likelihood of their targets under the reference's means and
//     variances but the evaluated model's correlations, divided by 5, and
//     averaged over the test points; XLLR ranks the models per reference;
//   - transductive active learning (TIG, MIG, BatchMIG, random): which pool
//     points a model's covariances choose to label, judged by the RMSE and
//     log-likelihood reached afterwards.
//
// Definitions follow the official code (ssydasheng/predictive-correlation-
// benchmark), as the functions' comments say.
package corrbench
