#!/usr/bin/env bash
# The audit log's tamper evidence and retention (sql/core/0008), for an
# operator connected as the database owner through the libpq environment.
#
#   sql/audit.sh verify [--checkpoint FILE]
#       Walks the hash chain and reports the first entry that does not hold
#       (a row modified, deleted or moved; a chain entry changed, deleted or
#       reordered; an old row outside the chain). With --checkpoint, also
#       checks that every checkpoint line in FILE is still in the chain: a
#       truncated tail leaves a consistent but shorter chain, which only a
#       head recorded outside the database reveals. Exit 0 when all holds.
#   sql/audit.sh checkpoint
#       Prints the chain head, "<seq> <sha256 hex> <UTC time>": append it to
#       a file on other storage (another host, write-once media) regularly,
#       e.g. every hour from cron, and verify against that file.
#   sql/audit.sh export YYYY-MM DIR
#       Retention: writes the month's rows and chain entries to
#       DIR/audit-YYYYMM.csv.gz and DIR/audit-chain-YYYYMM.csv.gz with its
#       checkpoint DIR/audit-YYYYMM.checkpoint, then drops the month's
#       partition and its chain entries, recording the checkpoint so that
#       verification starts after it. Months go oldest first, and never the
#       current one.
set -euo pipefail

prog=${0##*/}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s verify [--checkpoint FILE] | checkpoint | export YYYY-MM DIR\n' "$prog" >&2
    exit 2
}

q() { # psql, one value per line, stop on error
    psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

cmd_verify() {
    local checkpoint="" line ok bad_seq bad_id reason checked head_seq head_hash
    if [[ ${1:-} == --checkpoint ]]; then
        [[ $# -eq 2 ]] || usage
        checkpoint=$2
        [[ -r $checkpoint ]] || die "cannot read $checkpoint"
    elif [[ $# -ne 0 ]]; then
        usage
    fi
    line=$(q -F $'\t' -c "SELECT * FROM core.audit_verify()")
    IFS=$'\t' read -r ok bad_seq bad_id reason checked head_seq head_hash <<<"$line"
    if [[ $ok != t ]]; then
        printf 'BROKEN at chain entry %s (audit row %s): %s\n' "${bad_seq:--}" "${bad_id:--}" "$reason"
        return 1
    fi
    printf 'chain holds: %s entries checked, head %s %s\n' "$checked" "$head_seq" "$head_hash"
    [[ -n $checkpoint ]] || return 0
    local seq hash rest found n=0
    while read -r seq hash rest; do
        [[ -z $seq || $seq == \#* ]] && continue
        [[ $seq =~ ^[0-9]+$ && $hash =~ ^[0-9a-f]{64}$ ]] || die "malformed checkpoint line: $seq $hash"
        n=$((n + 1))
        # A checkpoint at or before the last retention cut was dropped with
        # its months: the cut itself must then be consistent with it.
        found=$(q -v seq="$seq" -v hash="$hash" <<'SQL'
SELECT CASE
    WHEN EXISTS (SELECT 1 FROM core.audit_chain WHERE seq = :'seq'::bigint)
        THEN (SELECT CASE WHEN encode(hash, 'hex') = :'hash' THEN 'ok' ELSE 'differs' END
              FROM core.audit_chain WHERE seq = :'seq'::bigint)
    WHEN :'seq'::bigint <= coalesce((SELECT max(seq) FROM core.audit_checkpoints), 0)
        THEN 'retired'
    ELSE 'missing'
END
SQL
)
        case $found in
        ok | retired) ;;
        differs)
            printf 'BROKEN: chain entry %s no longer has the checkpointed hash\n' "$seq"
            return 1
            ;;
        *)
            printf 'BROKEN: checkpoint %s is past the chain head %s: the tail was truncated\n' \
                "$seq" "$head_seq"
            return 1
            ;;
        esac
    done <"$checkpoint"
    printf 'checkpoints hold: %d checked against %s\n' "$n" "$checkpoint"
}

cmd_checkpoint() {
    [[ $# -eq 0 ]] || usage
    q -F ' ' -c "SELECT seq, encode(hash, 'hex'), to_char(now() AT TIME ZONE 'UTC',
                 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM core.audit_chain_head()"
}

cmd_export() {
    [[ $# -eq 2 ]] || usage
    local month=$1 dir=$2 tag part lo cut hash rows entries stray
    [[ $month =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || die "month must be YYYY-MM, not $month"
    [[ -d $dir && -w $dir ]] || die "$dir is not a writable directory"
    tag=${month/-/}
    part=core.audit_$tag
    lo="$month-01"
    [[ $(q -v lo="$lo" <<<"SELECT :'lo'::date < date_trunc('month', current_date)") == t ]] ||
        die "$month is not over yet: only past months can be retired"
    [[ $(q -c "SELECT to_regclass('$part') IS NOT NULL") == t ]] || die "no partition $part"
    [[ $(q -v lo="$lo" <<<"SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'core.audit'::regclass AND c.relname ~ '^audit_[0-9]{6}$'
         AND c.relname < 'audit_' || to_char(:'lo'::date, 'YYYYMM')") == 0 ]] ||
        die "an older month is still there: retire months oldest first"
    # Everything of the month must be chained before it can leave.
    q -c "SELECT core.audit_chain_extend(1000000)" >/dev/null
    [[ $(q -c "SELECT count(*) FROM $part a WHERE NOT EXISTS
         (SELECT 1 FROM core.audit_chain c WHERE c.audit_id = a.id)") == 0 ]] ||
        die "rows of $month are not in the chain yet: run sql/audit.sh verify"
    cut=$(q -c "SELECT max(c.seq) FROM core.audit_chain c JOIN $part a ON a.id = c.audit_id AND a.at = c.audit_at")
    [[ -n $cut ]] || die "$month has no chained rows"
    stray=$(q -v cut="$cut" <<<"SELECT count(*) FROM core.audit_chain c WHERE c.seq <= :'cut'::bigint
            AND NOT EXISTS (SELECT 1 FROM $part a WHERE a.id = c.audit_id AND a.at = c.audit_at)")
    [[ $stray == 0 ]] || die "$stray chain entries before the cut belong to later months: retire them together"
    hash=$(q -v cut="$cut" <<<"SELECT encode(hash, 'hex') FROM core.audit_chain WHERE seq = :'cut'::bigint")

    q -c "\\copy (SELECT * FROM $part ORDER BY at, id) TO STDOUT WITH (FORMAT csv, HEADER)" |
        gzip -9 >"$dir/audit-$tag.csv.gz"
    q -c "\\copy (SELECT seq, audit_id, audit_at, encode(hash, 'hex') AS hash FROM core.audit_chain
        WHERE seq <= $cut ORDER BY seq) TO STDOUT WITH (FORMAT csv, HEADER)" | gzip -9 >"$dir/audit-chain-$tag.csv.gz"
    printf '%s %s %s\n' "$cut" "$hash" "retention $month" >"$dir/audit-$tag.checkpoint"
    rows=$(gzip -dc "$dir/audit-$tag.csv.gz" | tail -n +2 | wc -l)
    entries=$(gzip -dc "$dir/audit-chain-$tag.csv.gz" | tail -n +2 | wc -l)

    [[ $rows =~ ^[0-9]+$ ]] || die "could not count the exported rows"
    sync "$dir/audit-$tag.csv.gz" "$dir/audit-chain-$tag.csv.gz" "$dir/audit-$tag.checkpoint"

    # Locked, the month must still hold exactly what was exported: a row
    # backdated into it since (a transaction that started last month) stops
    # the retirement instead of being dropped unexported.
    q -v cut="$cut" -v hash="$hash" -v month="$month" <<SQL
BEGIN;
LOCK TABLE $part IN ACCESS EXCLUSIVE MODE;
DO \$\$
BEGIN
    IF (SELECT count(*) FROM $part) <> $rows THEN
        RAISE EXCEPTION 'rows were added to $part while it was exported: run the export again';
    END IF;
END
\$\$;
DROP TABLE $part;
DELETE FROM core.audit_chain WHERE seq <= :'cut'::bigint;
INSERT INTO core.audit_checkpoints (seq, hash, kind, note)
VALUES (:'cut'::bigint, decode(:'hash', 'hex'), 'retention', 'retired ' || :'month');
COMMIT;
SQL
    printf 'retired %s: %s rows, %s chain entries, checkpoint %s %s, files in %s\n' \
        "$month" "$rows" "$entries" "$cut" "$hash" "$dir"
}

case ${1:-} in
verify)
    shift
    cmd_verify "$@"
    ;;
checkpoint)
    shift
    cmd_checkpoint "$@"
    ;;
export)
    shift
    cmd_export "$@"
    ;;
*) usage ;;
esac
