#!/usr/bin/env bash
# The long CPU jobs behind the committed results, as named stages that each resume where they stopped
# (the collector continues its folder, trainers resume from their last checkpoint, a run resumes by run id).
# A session that loses its machine reruns the same command and continues from what survived.
#
#   scripts/pipeline.sh STAGE...            e.g.  scripts/pipeline.sh demos dp-pilots act-pilots
#   EVA_WORK=runs scripts/pipeline.sh ...   working folder (default: runs/, git-ignored)
#
# Stages (in dependency order; each needs `demos` except eva-norl):
#   demos       21 tasks x 50 expert episodes, head camera at 160x120 (about 1 h on one core)
#   dp-pilots   DP-tiny, one model per pilot task, then 3 x 20 evaluation (run dp-tiny-pilots)
#   act-pilots  ACT-tiny, the same (run act-tiny-pilots)
#   dp-multi    one task-conditioned DP-tiny over the 21 tasks, then 21 x 20 (run dp-tiny-multi)
#   act-multi   the same for ACT-tiny (run act-tiny-multi)
#   grpo        Flow-GRPO from the released wm-tiny (CPU settings), then `compare` of its snapshots
#   eva-norl    the released wm-tiny + idm-v3 on 21 x 20 (run eva-norl-wm-tiny-s5; 5 ODE steps)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${EVA_WORK:-${ROOT}/runs}"
PILOTS="click_bell,place_container_plate,handover_block"
WM="${ROOT}/results/checkpoints/wm-tiny"
IDM="${ROOT}/results/checkpoints/idm-v3"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1   # two processes on two cores: one thread each is faster
[[ $# -gt 0 ]] || { awk 'NR > 1 && !/^#/ { exit } NR > 1' "${BASH_SOURCE[0]}"; exit 2; }
mkdir -p "${WORK}"
cd "${WORK}"
DB="${WORK}/results.sqlite"
log() { echo "[pipeline $(date -u +%H:%M:%S)] $*"; }

need_demos() { [[ -d demos ]] || { echo "stage $1 needs demos (run the demos stage first)" >&2; exit 1; }; }

pilots() {  # pilots POLICY: single-task tiny models of the pilot tasks, then their evaluation
    need_demos "$1-pilots"
    for task in ${PILOTS//,/ }; do
        log "$1-tiny ${task}"
        eva-bench train "$1" --data demos --tasks "${task}" --out "$1-tiny/${task}" --threads 1 --no-progress
    done
    eva-bench run --policy "$1" --checkpoint "$1-tiny" --tasks "${PILOTS}" --episodes 20 --workers 2 \
        --run-id "$1-tiny-pilots" --out episodes --db "${DB}"
}

multi() {  # multi POLICY: one task-conditioned model over the 21 tasks, then 21 x 20
    need_demos "$1-multi"
    eva-bench train "$1" --data demos --tasks all --multi-task --steps 30000 --out "$1-tiny-multi" \
        --threads 1 --no-progress
    eva-bench run --policy "$1" --checkpoint "$1-tiny-multi" --tasks all --episodes 20 --workers 2 \
        --run-id "$1-tiny-multi" --out episodes --db "${DB}"
}

for stage in "$@"; do
    log "stage ${stage}"
    case "${stage}" in
        demos) eva-bench collect --out demos --tasks all --episodes 50 --workers 1 --cameras head_camera \
                   --resolution 160x120 ;;
        dp-pilots) pilots dp ;;
        act-pilots) pilots act ;;
        dp-multi) multi dp ;;
        act-multi) multi act ;;
        grpo)
            need_demos grpo
            eva-bench train grpo --init "${WM}" --data demos --out grpo-wm-tiny --reward-idm "${IDM}" \
                --group-size 8 --inner-epochs 1 --checkpoint-every 4 --threads 1 --no-progress
            eva-bench compare grpo-wm-tiny --tasks "${PILOTS}" --episodes 5 --workers 2 --out compare-wm-tiny \
                --db "${DB}" ;;
        eva-norl)
            eva-bench run --policy eva-norl --tasks all --episodes 20 --workers 2 --run-id eva-norl-wm-tiny-s5 \
                --policy-option sample_steps=5 --out episodes --db "${DB}" ;;
        *) echo "unknown stage ${stage}; run without arguments for the list of stages" >&2
           exit 2 ;;
    esac
done
log "done: $*"
