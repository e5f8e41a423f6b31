# step "what" command...: one line on the terminal, the command's output appended to $LOG, and
# on failure its last lines and where the whole log is. Sourced by the setup scripts, which set
# LOG and STEP_PREFIX (the line's first word) first.
step() {
  local what=$1; shift
  printf '%s: %s … ' "$STEP_PREFIX" "$what"
  local started=$SECONDS
  if "$@" >>"$LOG" 2>&1; then
    echo "ok ($((SECONDS - started))s)"
  else
    echo "FAILED"
    echo "$STEP_PREFIX: '$what' failed; last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
    echo "$STEP_PREFIX: the full log is $LOG" >&2
    exit 1
  fi
}
