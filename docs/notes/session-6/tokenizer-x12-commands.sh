set -e
cd /work/main
M=/work/wt-lead/.build/release/meshctl
H=.latentmesh/exp-tok7200
time $M tokenizer train --embedded --home $H --preset vtp-fmnistc32-s --steps 7200 --seed 0 --name tok7200
time $M generator train --embedded --home $H --preset flowgen-s --tokenizer tok7200 --steps 2400 --seed 0 --train-limit 20000 --name gen2400-tok7200
time $M generator eval gen2400-tok7200 --embedded --home $H --images 2000 --guidance 3 --steps 28
