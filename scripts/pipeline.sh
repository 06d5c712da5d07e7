#!/usr/bin/env bash
# The long CPU jobs behind the committed results, as named stages that each resume where they stopped
# (the collector continues its folder, trainers resume from their last checkpoint, a run resumes by run id).
# A session that loses its machine reruns the same command and continues from what survived.
#
#   scripts/pipeline.sh STAGE...            e.g.  scripts/pipeline.sh demos dp-pilots act-pilots
#   EVA_WORK=runs scripts/pipeline.sh ...   working folder (default: runs/, git-ignored)
#
# Stages (in dependency order; the trainers need `demos`, grpo needs `prompts`):
#   demos       21 tasks x 50 expert episodes, head camera at 160x120 (about 1 h on one core)
#   prompts     the first 10 of them per task, a folder of its own: GRPO's prompts (about 12 min)
#   dp-pilots   DP-tiny, one model per pilot task, then 3 x 20 evaluation (run dp-tiny-pilots)
#   act-pilots  ACT-tiny, the same (run act-tiny-pilots)
#   dp-multi    one task-conditioned DP-tiny over the 21 tasks, then 21 x 20 (run dp-tiny-multi)
#   act-multi   the same for ACT-tiny (run act-tiny-multi)
#   grpo        Flow-GRPO from the released wm-tiny on `prompts` (CPU settings), then `compare` of its snapshots
#   eva-norl    the released wm-tiny + idm-v3 on 21 x 20 (run eva-norl-wm-tiny-s5; 5 ODE steps)
#   eva-norl-report  its database (paths made relative) and reports into results/world_model/eva-norl-21x20/
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

need() {  # need FOLDER STAGE
    [[ -d "$1" ]] || { echo "stage $2 needs $1 (run the $1 stage first)" >&2; exit 1; }
}
collect() {  # collect FOLDER EPISODES: the expert demos every trainer here reads
    eva-bench collect --out "$1" --tasks all --episodes "$2" --workers 1 --cameras head_camera --resolution 160x120
}

pilots() {  # pilots POLICY: single-task tiny models of the pilot tasks, then their evaluation
    need demos "$1-pilots"
    for task in ${PILOTS//,/ }; do
        log "$1-tiny ${task}"
        eva-bench train "$1" --data demos --tasks "${task}" --out "$1-tiny/${task}" --threads 1 --no-progress
    done
    eva-bench run --policy "$1" --checkpoint "$1-tiny" --tasks "${PILOTS}" --episodes 20 --workers 2 \
        --run-id "$1-tiny-pilots" --out episodes --db "${DB}"
}

multi() {  # multi POLICY: one task-conditioned model over the 21 tasks, then 21 x 20
    need demos "$1-multi"
    eva-bench train "$1" --data demos --tasks all --multi-task --steps 30000 --out "$1-tiny-multi" \
        --threads 1 --no-progress
    eva-bench run --policy "$1" --checkpoint "$1-tiny-multi" --tasks all --episodes 20 --workers 2 \
        --run-id "$1-tiny-multi" --out episodes --db "${DB}"
}

report() {  # report RUN LABEL FOLDER: a world-model run's database copy and reports, into the repository
    local run=$1 label=$2 out=$3
    mkdir -p "${out}"
    rm -f "${out}/runs.sqlite"
    eva-bench results export --run-id "${run}" --db "${DB}" --out "${out}/runs.sqlite" --relative-to "${ROOT}"
    eva-bench report table2 --run "${label}=${run}" --db "${out}/runs.sqlite" --out "${out}"
    eva-bench report gap --run-id "${run}" --db "${out}/runs.sqlite" --out "${out}"
    eva-bench report reward --run-id "${run}" --db "${out}/runs.sqlite" --out "${out}"
    eva-bench results show --run-id "${run}" --db "${out}/runs.sqlite" > "${out}/results.md"
    # The videos live here, not in the repository: on a machine that lost them the committed sheet stays.
    eva-bench report episodes --run-id "${run}" --db "${out}/runs.sqlite" --out "${out}" \
        || log "episode sheet not redrawn (the videos are not on this machine)"
}

for stage in "$@"; do
    log "stage ${stage}"
    case "${stage}" in
        demos) collect demos 50 ;;
        prompts) collect prompts 10 ;;  # its own folder: the GRPO run's split must not grow under it
        dp-pilots) pilots dp ;;
        act-pilots) pilots act ;;
        dp-multi) multi dp ;;
        act-multi) multi act ;;
        grpo)
            need prompts grpo
            eva-bench train grpo --init "${WM}" --data prompts --out grpo-wm-tiny --reward-idm "${IDM}" \
                --group-size 8 --inner-epochs 1 --checkpoint-every 4 --threads 1 --no-progress
            eva-bench compare grpo-wm-tiny --tasks "${PILOTS}" --episodes 5 --workers 2 --out compare-wm-tiny \
                --db "${DB}" ;;
        eva-norl)
            eva-bench run --policy eva-norl --tasks all --episodes 20 --workers 2 --run-id eva-norl-wm-tiny-s5 \
                --policy-option sample_steps=5 --out episodes --db "${DB}" ;;
        eva-norl-report)
            report eva-norl-wm-tiny-s5 "EVA w/o RL, wm-tiny (ours)" "${ROOT}/results/world_model/eva-norl-21x20" ;;
        *) echo "unknown stage ${stage}; run without arguments for the list of stages" >&2
           exit 2 ;;
    esac
done
log "done: $*"
