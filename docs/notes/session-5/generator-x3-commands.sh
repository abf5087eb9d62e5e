set -e
cd /work/main
M=/work/wt-lead/.build/release/meshctl
time $M generator train --embedded --home .latentmesh/exp-tok2400 --preset flowgen-s --tokenizer tok2400 --steps 2400 --seed 0 --train-limit 20000 --name gen2400-tok2400
time $M generator eval gen2400-tok2400 --embedded --home .latentmesh/exp-tok2400 --images 2000 --guidance 3 --steps 28
