#!/bin/sh
# The runs behind this report (written by lstm97 report). Run from this folder.
set -e
lstm97 reproduce 1-1 1-2 1-3 1-4 1-5 rtrl-1-3 elman-1 rcc-1 2a rtrl-2a-p4-lr1 rtrl-2a-p4-lr4 rtrl-2a-p4-lr10 rtrl-2a-p10 ch-val 2c-1 2c-2 2c-3 3a-1 3a-2 3a-3 3b-1 3b-2 3b-3 3c-1 3c-2 4-1 4-2 4-3 5-140 5-13 6a 6b guess-2seq guess-parity-a1 guess-parity-a2 guess-latch cerg-reset am-100 am-200 am-400 am-750 copy-100 --store lstm97.sqlite
lstm97 reproduce copy-200 --trials 2 --store lstm97.sqlite
lstm97 reproduce cerg-standard cerg-decay cerg-forget cerg-forget-decay --trials 20 --store lstm97.sqlite
lstm97 reproduce 2b --trials 2 --max-sequences 500000 --store lstm97.sqlite
lstm97 reproduce --all --quick --store lstm97.sqlite
lstm97 run reber --model lstm --hp blocks=3 --hp block_size=2 --hp out_gate_bias=-1,-2,-3 --hp lr=0.5 --hp update=sequence --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=4 --model lstm --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=10 --model lstm --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=20 --model lstm --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=50 --model lstm --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=100 --model lstm --hp g=g2 --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=100 -p variant=b --model lstm --hp g=g2 --max-sequences 300000 --trials 2 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag-distractors -p q=100 -p p=100 --model lstm --max-sequences 500000 --trials 4 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag-distractors -p q=100 -p p=100 --model lstm --hp bias=gates --hp in_gate_bias=-1,-2 --max-sequences 500000 --trials 4 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag-distractors -p q=100 -p p=100 --model lstm --hp bias=gates --hp in_gate_bias=-3,-6 --max-sequences 500000 --trials 4 --seed 1000 --store lstm97.sqlite
lstm97 run reber-continual -p stream=100000 --model lstm --hp forget_gate=false --hp forget_gate_bias=None --hp state_decay=0.9 --hp state_decay_traces=false --max-sequences 30000 --trials 20 --store lstm97.sqlite
lstm97 run reber-continual -p stream=100000 --model lstm --hp lr_decay=0.99 --hp lr_decay_every=10 --max-sequences 30000 --trials 20 --store lstm97.sqlite
lstm97 run reber-continual -p stream=100000 --model lstm --hp lr_decay=0.99 --hp lr_decay_every=100 --max-sequences 30000 --trials 20 --store lstm97.sqlite
lstm97 run reber-continual -p stream=100000 --model lstm --hp lr_decay=0.99 --hp lr_decay_every=1000 --max-sequences 30000 --trials 20 --store lstm97.sqlite
lstm97 run long-lag -p p=4 --model rtrl --hp arch=layered --hp hidden=1 --hp recurrence=self --hp skip=true --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=1.0 --hp update=step --hp outputs_see=current --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=4 --model rtrl --hp arch=layered --hp hidden=1 --hp recurrence=self --hp skip=true --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=4.0 --hp update=step --hp outputs_see=current --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=4 --model rtrl --hp arch=layered --hp hidden=1 --hp recurrence=self --hp skip=true --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=10.0 --hp update=step --hp outputs_see=current --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run reber --model elman --hp arch=layered --hp hidden=15 --hp recurrence=full --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=0.02 --hp truncate=1 --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run reber --model elman --hp arch=layered --hp hidden=15 --hp recurrence=full --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=0.5 --hp truncate=1 --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=10 --model rtrl --hp arch=layered --hp hidden=1 --hp recurrence=self --hp skip=true --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=4.0 --hp update=step --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 run long-lag -p p=10 --model rtrl --hp arch=layered --hp hidden=1 --hp recurrence=self --hp skip=true --hp bias=false --hp act=logistic --hp init=0.2 --hp lr=10.0 --hp update=step --trials 10 --seed 1000 --store lstm97.sqlite
lstm97 ablate 1-1 --vary reset=0.5 --vary bias_init=jitter --vary r_bias=0.1 --vary error_factor=2 --vary connectivity=cells --vary update=sequence --vary targets=legal --vary order=file --trials 30 --max-sequences 100000 --store lstm97.sqlite
lstm97 ablate 1-5 --vary reset=0.5 --vary bias_init=jitter --vary r_bias=0.1 --vary error_factor=2 --vary connectivity=cells --vary update=sequence --vary targets=legal --vary order=file --trials 30 --max-sequences 100000 --store lstm97.sqlite
lstm97 ablate 3a-1 --vary reset=0.5 --vary bias_init=jitter --vary error_factor=2 --vary connectivity=cells --trials 10 --store lstm97.sqlite
lstm97 ablate 4-1 --vary reset=0.5 --vary bias_init=jitter --vary r_bias=0.1 --vary error_factor=2 --vary connectivity=cells --trials 10 --store lstm97.sqlite
lstm97 ablate 2c-1 --vary reset=0.5 --vary error_factor=2 --vary connectivity=cells --vary success=window --trials 10 --max-sequences 500000 --store lstm97.sqlite
lstm97 ablate 5-13 --vary reset=0.5 --vary r_bias=0.1 --vary error_factor=2 --vary connectivity=cells --trials 10 --max-sequences 1000000 --store lstm97.sqlite
lstm97 ablate 2a --vary reset=0.5 --vary error_factor=2 --vary connectivity=cells --vary success=window --trials 10 --max-sequences 300000 --store lstm97.sqlite
lstm97 ablate 2c-2 --vary reset=0.5 --vary error_factor=2 --vary connectivity=cells --vary success=window --trials 10 --max-sequences 500000 --store lstm97.sqlite
lstm97 ablate 6b --vary reset=0.5 --vary bias_init=jitter --vary r_bias=0.1 --vary error_factor=2 --vary connectivity=cells --trials 10 --max-sequences 1000000 --store lstm97.sqlite
lstm97 extend 6a --trials 20 --max-sequences 200000 --store lstm97.sqlite
lstm97 extend 3a-1 --trials 10 --max-sequences 1000000 --store lstm97.sqlite
lstm97 extend 4-1 --trials 10 --max-sequences 2000000 --store lstm97.sqlite
lstm97 extend 5-140 --trials 10 --max-sequences 3000000 --store lstm97.sqlite
lstm97 extend am-100 --trials 10 --store lstm97.sqlite
lstm97 ablate cerg-forget-decay --vary lr_decay_every=10,100,1000 --trials 20 --store lstm97.sqlite
lstm97 ablate cerg-decay --vary state_decay_traces=false --trials 20 --store lstm97.sqlite
lstm97 extend 1-5 --trials 10 --store lstm97.sqlite
lstm97 extend 6b --trials 10 --max-sequences 2000000 --store lstm97.sqlite
lstm97 extend 2c-1 --trials 20 --max-sequences 500000 --store lstm97.sqlite
lstm97 report --store lstm97.sqlite --out .
