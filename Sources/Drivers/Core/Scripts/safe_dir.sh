#!/bin/sh
# labsync_safe_dir [-c] [-o] PATH
#
# Refuses PATH (status 1, one line on stderr naming PATH and the culprit) unless
# every component that exists, from / down, is a real directory (never a
# symbolic link), owned by root or by the user running this script, and
# writable by neither its group nor others. Whoever controls one directory on
# the path could otherwise steer labsync's writes (a link to /etc) or swap a
# directory under it between the check and the write.
#
# A root-owned sticky directory (/tmp) may be passed through although anyone
# may write in it: the sticky bit stops others from renaming or deleting
# root's entries there, so the checked components below it stay ours. It is
# never accepted as PATH itself, and nothing missing is created in it unchecked.
#
# -c  create the missing components (mode 0755), one mkdir at a time, each
#     checked after it is made: losing a race in a writable parent ends in a
#     refusal, never in a followed link. Without -c a missing tail is allowed
#     (the step creates it) only when its parent is not writable by others.
# -o  PATH itself belongs to a spec's `owner`: it need only be a real directory.
#
# One `stat` for all components: the check costs a process, not a round trip.
labsync_safe_dir() {
  _sd_create=0 _sd_owned=0
  while :; do
    case ${1-} in -c) _sd_create=1 ;; -o) _sd_owned=1 ;; *) break ;; esac
    shift
  done
  _sd_path=${1-}
  case $_sd_path in
    /*) ;;
    *) echo "labsync: unsafe path '$_sd_path': not an absolute path" >&2; return 1 ;;
  esac
  case $_sd_path/ in
    //) ;;
    *//*|*/./*|*/../*) echo "labsync: unsafe path $_sd_path: not a normalized path" >&2; return 1 ;;
  esac
  _sd_me=$(id -u)
  # The components, / first, as this function's positional parameters.
  _sd_rest=${_sd_path#/} _sd_p=
  set -- /
  while [ -n "$_sd_rest" ]; do
    _sd_p=$_sd_p/${_sd_rest%%/*}
    case $_sd_rest in */*) _sd_rest=${_sd_rest#*/} ;; *) _sd_rest= ;; esac
    set -- "$@" "$_sd_p"
  done
  # stat does not follow links. It prints the components that exist, in order:
  # once one is missing, so is everything below it.
  # LC_ALL=C: %F is translated in other locales.
  _sd_out=$(LC_ALL=C stat -c '%u %a %F' -- "$@" 2>/dev/null)
  _sd_wide=0
  while read -r _sd_uid _sd_mode _sd_type; do
    [ -n "$_sd_uid" ] || continue
    _sd_d=$1
    shift
    _labsync_safe_component "$_sd_d" "$_sd_uid" "$_sd_mode" "$_sd_type" "$#" || return 1
  done <<EOF
$_sd_out
EOF
  [ "$#" -gt 0 ] || return 0
  if [ "$_sd_create" = 0 ]; then
    if [ "$_sd_wide" = 1 ]; then
      echo "labsync: unsafe path $_sd_path: $1 does not exist, and its parent is writable by others: labsync creates nothing there unchecked" >&2
      return 1
    fi
    return 0
  fi
  while [ "$#" -gt 0 ]; do
    _sd_d=$1
    shift
    # A failed mkdir (someone made it first) is judged by the check that follows.
    mkdir -m 755 -- "$_sd_d" 2>/dev/null
    _sd_out=$(LC_ALL=C stat -c '%u %a %F' -- "$_sd_d" 2>/dev/null) || {
      echo "labsync: unsafe path $_sd_path: cannot create $_sd_d" >&2
      return 1
    }
    read -r _sd_uid _sd_mode _sd_type <<EOF
$_sd_out
EOF
    _labsync_safe_component "$_sd_d" "$_sd_uid" "$_sd_mode" "$_sd_type" "$#" || return 1
  done
}

# _labsync_safe_component DIR UID MODE TYPE BELOW: one component's verdict;
# BELOW is how many components of the path lie under it (0: DIR is the path).
# Sets _sd_wide when DIR is a sticky directory others may write in.
_labsync_safe_component() {
  _sd_why=
  case $4 in
    "symbolic link") _sd_why="$1 is a symbolic link" ;;
    directory) ;;
    *) _sd_why="$1 is not a directory ($4)" ;;
  esac
  if [ -z "$_sd_why" ] && ! { [ "$5" = 0 ] && [ "$_sd_owned" = 1 ]; }; then
    _sd_m=$((0$3))
    if [ "$2" != 0 ] && [ "$2" != "$_sd_me" ]; then
      _sd_who=$(id -nu -- "$2" 2>/dev/null) || _sd_who="uid $2"
      [ "$_sd_who" = "uid $2" ] || _sd_who="$_sd_who (uid $2)"
      _sd_why="$1 is owned by $_sd_who, not root"
    elif [ $((_sd_m & 022)) != 0 ]; then
      _sd_w=others
      [ $((_sd_m & 022)) = 18 ] && _sd_w="group and others"
      [ $((_sd_m & 022)) = 16 ] && _sd_w=group
      if [ $((_sd_m & 01000)) != 0 ] && [ "$2" = 0 ] && [ "$5" != 0 ]; then
        _sd_wide=1
        return 0
      fi
      _sd_why="$1 is writable by $_sd_w (mode $3)"
    fi
  fi
  _sd_wide=0
  [ -z "$_sd_why" ] && return 0
  echo "labsync: unsafe path $_sd_path: $_sd_why" >&2
  return 1
}
