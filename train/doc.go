// Package train trains networks: SGD with momentum and weight decay, Adam
// and AdamW (torch.optim's semantics), learning-rate schedules with linear
// warm-up, label smoothing, the epoch loop with evaluation, masks held at
// zero, atomic checkpoints and exact resumption.
//
// Masks live on the network's parameters (nn.Param.Mask); the trainer keeps
// masked weights at exactly zero (neither weight decay nor momentum revives
// them) and checks it at every epoch's end. It does not know how the masks
// were made.
package train
