#! /bin/sh
# Copyright (c) 2026 The protostack authors.
#
# Licensed under the Apache License, Version 2.0.

# Tests of the command-line tool, utilities/protostack: usage and exit
# status, error messages, list, explain, craft (sizes, counts, --vary,
# '-w -'), dissect (of pcaps written by the tool and by Scapy, -x,
# --text2pcap), gen, and protocols added at run time.
#
# Run by `make check`, which sets PS_BUILDDIR (the tool is
# $PS_BUILDDIR/utilities/protostack), PS_TEST_SRCDIR (this directory),
# TSHARK and PYTHON3_SYSTEM (tests/automake.mk).  By
# hand, from a build directory:
#
#     PS_TEST_SRCDIR=../tests sh ../tests/cli.sh
#
# Set PS_CLI_KEEP=1 to keep the temporary directory.  tshark, text2pcap
# (Debian's tshark and wireshark-common), Scapy (python3-scapy) and a C
# compiler are required, as for tests/interop.sh: a check that needs a
# missing one fails.
#
# Prints "ok  NAME" or "FAIL NAME: reason" per check, then "N passed,
# M failed"; exits 1 if any check failed.
#
# Starting a process is the main cost here, so the checks read files
# with the shell's own 'read' and 'case' where they can, and one awk
# program (check.awk below) compares a whole dump with what is expected.

: "${PS_TEST_SRCDIR:=$(dirname "$0")}"
: "${PS_BUILDDIR:=.}"
# The tool's own, built-in protocols.
unset PROTOSTACK_DATADIR
# Only the protocols a check asks for.
unset PROTOSTACK_PATH
LC_ALL=C
export LC_ALL

passed=0
failed=0
ok() {
    echo "ok  $1"
    passed=$((passed + 1))
}
fail() {
    name_=$1
    shift
    echo "FAIL $name_: $*"
    failed=$((failed + 1))
}
finish() {
    echo "$passed passed, $failed failed"
    if [ "$failed" -eq 0 ]; then
        exit 0
    fi
    exit 1
}

abs() {
    case $1 in
        /*) echo "$1" ;;
        *) echo "$(pwd)/$1" ;;
    esac
}
srcdir=$(abs "$PS_TEST_SRCDIR")
builddir=$(abs "$PS_BUILDDIR")
shipped=$srcdir/../protocols
extra=$srcdir/extra

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ps-cli.XXXXXX") || {
    fail setup "cannot create a temporary directory"
    finish
}
if [ -n "$PS_CLI_KEEP" ]; then
    echo "# keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' HUP INT TERM
fi
cd "$tmp" || exit 1

# The tool.  In a libtool build, utilities/protostack is a wrapper script
# that costs a shell start-up and more per run; run the binary it wraps,
# with the library path the wrapper sets, unless that does not work.  The
# last check runs the wrapper itself.
tool=$builddir/utilities/protostack
if [ ! -x "$tool" ]; then
    fail setup "no tool at $tool (set PS_BUILDDIR)"
    finish
fi
bin=$tool
if [ -x "$builddir/utilities/.libs/protostack" ] \
   && head -n 5 "$tool" | grep -q libtool; then
    if LD_LIBRARY_PATH=$builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
       "$builddir/utilities/.libs/protostack" list >/dev/null 2>&1; then
        LD_LIBRARY_PATH=$builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        export LD_LIBRARY_PATH
        bin=$builddir/utilities/.libs/protostack
    fi
fi
pst() {
    "$bin" "$@"
}

# Scapy is installed for Debian's own Python: a python3 found first on
# PATH may lack it.
python=${PYTHON3_SYSTEM:-/usr/bin/python3}
[ -x "$python" ] || python=/usr/bin/python3
if [ -z "$TSHARK" ]; then
    TSHARK=$(command -v tshark) || TSHARK=tshark
fi
text2pcap=$(command -v text2pcap) \
    || text2pcap=$(dirname "$TSHARK")/text2pcap
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || cc=gcc

[ -f "$srcdir/stack-cases.h" ] || {
    fail setup "no $srcdir/stack-cases.h (set PS_TEST_SRCDIR)"
    finish
}

# run ARG...: runs the tool; its standard output, error and exit status
# go to files out and err and to $rc; $err1 is the first line of err.
run() {
    pst "$@" >out 2>err
    rc=$?
    err1="(nothing on stderr)"
    err_lines=0
    while IFS= read -r line; do
        [ $err_lines -eq 0 ] && err1=$line
        err_lines=$((err_lines + 1))
    done <err
}

# has FILE PATTERN: whether a line of FILE matches the shell PATTERN.
has() {
    while IFS= read -r line; do
        # shellcheck disable=SC2254
        case $line in
            $2) return 0 ;;
        esac
    done <"$1"
    return 1
}

# Line count of a file, without a process.
lines() {
    n=0
    while IFS= read -r line; do
        n=$((n + 1))
    done <"$1"
    echo $n
}

# check.awk: compares a dissect dump (the last file) with what is
# expected, prints why it differs, or nothing.
#   -v headers="eth ip4 ..."  the header names in order;
#   -v expect="E|E|..."      each E is HEADER:FIELD=VALUE (a number
#                            also matches in decimal or hex), +TEXT (in
#                            the dump) or -TEXT (not in it);
#   -v labels="H.F=V,..."    with a first file, the output of explain:
#                            the dump has the stack's protocols in order
#                            and every label's value, in the header at
#                            the label's header's position (a dissector
#                            names headers by protocol: inner_mpls, not
#                            mpls2), and nothing is reported bad.
cat >check.awk <<'EOF'
function num(s,    v, i, c) {
    s = tolower(s)
    if (s ~ /^[0-9]+$/) {
        return s + 0
    }
    if (s ~ /^0x[0-9a-f]+$/) {
        v = 0
        for (i = 3; i <= length(s); i++) {
            c = index("0123456789abcdef", substr(s, i, 1)) - 1
            v = v * 16 + c
        }
        return v
    }
    return ""
}
function same(a, b) {
    if (num(a) != "" && num(b) != "") {
        return num(a) == num(b)
    }
    return tolower(a) == tolower(b)
}
NR == FNR && n_files == 2 {
    if ($0 ~ /^[A-Za-z_][A-Za-z0-9_]*: .*, [0-9]+ bytes at [0-9]+: /) {
        name = $1
        sub(/:$/, "", name)
        p = $0
        sub(/^[^:]*: /, "", p)
        sub(/, [0-9]+ bytes at .*/, "", p)
        n_want++
        want_name[n_want] = name
        want_proto[n_want] = p
    }
    next
}
{ text = text $0 "\n" }
/^(packet [0-9]+,|payload:|trailer:|truncated:|\t|# )/ { next }
{
    h = $0
    sub(/:.*/, "", h)
    fields = substr($0, length(h) + 3)
    if (h ~ / \(.*\)$/) {
        name = h
        sub(/ \(.*/, "", name)
        proto = h
        sub(/^[^(]*\(/, "", proto)
        sub(/\)$/, "", proto)
    } else {
        name = proto = h
    }
    n_got++
    got_name[n_got] = name
    got_proto[n_got] = proto
    got_line[n_got] = $0
    n = split(fields, tok, " ")
    for (i = 1; i <= n; i++) {
        if (tok[i] ~ /^[A-Za-z_][A-Za-z0-9_]*=/) {
            eq = index(tok[i], "=")
            value[n_got, substr(tok[i], 1, eq - 1)] = substr(tok[i], eq + 1)
            has_value[n_got, substr(tok[i], 1, eq - 1)] = 1
        }
    }
}
function field_is(k, f, v) {
    if (!((k, f) in has_value)) {
        return 0
    }
    return same(value[k, f], v)
}
END {
    if (n_files == 1 && NR == 0) {
        print "empty dump"
        exit
    }
    if (headers != "") {
        s = ""
        for (i = 1; i <= n_got; i++) {
            s = s (i > 1 ? " " : "") got_name[i]
        }
        if (s != headers) {
            print "headers \"" s "\", expected \"" headers "\""
            exit
        }
    }
    if (n_files == 2) {
        for (i = 1; i <= n_want; i++) {
            if (got_proto[i] != want_proto[i]) {
                s = ""
                for (j = 1; j <= n_got; j++) {
                    s = s " " got_proto[j]
                }
                print "header " i " is \"" got_proto[i] "\", expected \"" \
                    want_proto[i] "\"; found:" s
                exit
            }
        }
        n = split(labels, lab, ",")
        for (i = 1; i <= n; i++) {
            dot = index(lab[i], ".")
            eq = index(lab[i], "=")
            hname = substr(lab[i], 1, dot - 1)
            f = substr(lab[i], dot + 1, eq - dot - 1)
            v = substr(lab[i], eq + 1)
            k = 0
            for (j = 1; j <= n_want; j++) {
                if (want_name[j] == hname) {
                    k = j
                }
            }
            if (!k || !field_is(k, f, v)) {
                print lab[i] " not in \"" got_line[k] "\""
                exit
            }
        }
        if (index(text, "[bad ") || text ~ /(^|\n)truncated:/) {
            print "problem reported in:\n" text
            exit
        }
    }
    n = split(expect, ex, "|")
    for (i = 1; i <= n; i++) {
        e = ex[i]
        if (substr(e, 1, 1) == "+") {
            if (!index(text, substr(e, 2))) {
                print "no \"" substr(e, 2) "\""
                exit
            }
        } else if (substr(e, 1, 1) == "-") {
            if (index(text, substr(e, 2))) {
                print "\"" substr(e, 2) "\" in the dump"
                exit
            }
        } else {
            colon = index(e, ":")
            eq = index(e, "=")
            hname = substr(e, 1, colon - 1)
            f = substr(e, colon + 1, eq - colon - 1)
            k = 0
            for (j = 1; j <= n_got; j++) {
                if (got_name[j] == hname) {
                    k = j
                }
            }
            if (!k || !field_is(k, f, substr(e, eq + 1))) {
                print "no " substr(e, colon + 1) " in \"" got_line[k] "\""
                exit
            }
        }
    }
}
EOF

# Usage and exit status.

run --help
if [ $rc -eq 0 ] && has out "usage:*"; then
    ok "help"
else
    fail "help" "protostack --help: exit status $rc"
fi
for cmd in list explain craft dissect gen; do
    run $cmd --help
    if [ $rc -ne 0 ]; then
        fail "help $cmd" "exit status $rc"
    elif ! has out "usage: protostack $cmd*"; then
        fail "help $cmd" "no \"usage: protostack $cmd\" on stdout"
    else
        ok "help $cmd"
    fi
done

# usage NAME ARG...: the tool must exit 2 and print its usage on stderr,
# nothing on stdout.
usage() {
    name=$1
    shift
    run "$@"
    if [ $rc -ne 2 ]; then
        fail "$name" "protostack $*: exit status $rc, expected 2: $err1"
    elif ! has err "*usage:*"; then
        fail "$name" "protostack $*: no usage on stderr"
    elif [ -s out ]; then
        fail "$name" "protostack $*: output on stdout"
    else
        ok "$name"
    fi
}
usage "usage no arguments"
usage "usage unknown command" frobnicate
has err '*"frobnicate"*' \
    || fail "usage unknown command named" "the message does not name it"
usage "usage unknown option list" list --bogus
usage "usage unknown option explain" explain --bogus eth
usage "usage unknown option craft" craft eth --bogus -w x.pcap
usage "usage unknown option dissect" dissect --bogus x.pcap
usage "usage unknown option gen" gen --bogus eth
usage "usage missing operand explain" explain
usage "usage missing operand craft" craft -w x.pcap
usage "usage missing -w craft" craft eth,ip4,udp
usage "usage missing operand dissect" dissect
usage "usage missing operand gen" gen
usage "usage missing option argument" craft eth,ip4,udp -w
usage "usage extra operand list" list eth
usage "usage extra operand explain" explain eth ip4
usage "usage no capture dissect" dissect -x
[ -e x.pcap ] && fail "usage writes nothing" "x.pcap was created"

# Every other message starts with "protostack: "; getopt's should name
# the program too, not an operand.
run craft eth,ip4,udp --bogus -w x.pcap
case $err1 in
    protostack*--bogus*) ok "usage message names the program" ;;
    *) fail "usage message names the program" "got: $err1" ;;
esac

# Bad input: exit status 1 and ONE line on stderr that names the
# culprit.

# bad NAME REGEX ARG...: runs the tool, which must exit 1 with one line
# on stderr that starts with "protostack: " and matches REGEX (grep -E),
# and leave no x.pcap behind.
bad() {
    name=$1
    regex=$2
    shift 2
    rm -f x.pcap
    run "$@"
    if [ $rc -ne 1 ]; then
        fail "$name" "protostack $*: exit status $rc, expected 1: $err1"
    elif [ $err_lines -ne 1 ]; then
        fail "$name" "protostack $*: $err_lines lines on stderr: $err1"
    elif [ "${err1#protostack: }" = "$err1" ]; then
        fail "$name" "protostack $*: no \"protostack: \" prefix: $err1"
    elif ! printf '%s\n' "$err1" | grep -q -E -e "$regex"; then
        fail "$name" "protostack $*: message does not match /$regex/: $err1"
    elif [ -e x.pcap ]; then
        fail "$name" "protostack $*: left x.pcap behind: $err1"
    else
        ok "$name"
    fi
}
bad "bad unknown protocol" '"ipv4"' craft eth,ipv4,udp -w x.pcap
bad "bad unknown protocol explain" '"nosuch"' explain eth,ip4,nosuch
bad "bad unknown protocol gen" '"nosuch"' gen eth,nosuch
bad "bad spec syntax" "'\{'|brace|\}" explain 'eth,{ip4'
bad "bad spec option" 'foo' explain 'eth,{ip4,foo=1}'
bad "bad subtype" '"x"' explain 'eth,{ip4,subtype=x}'
bad "bad unknown label" 'ip4\.foo' craft eth,ip4,udp ip4.foo=1 -w x.pcap
bad "bad unknown header" 'ip6' craft eth,ip4,udp ip6.src=::1 -w x.pcap
bad "bad label syntax" 'ttl' craft eth,ip4,udp ttl -w x.pcap
bad "bad integer" 'ip4\.ttl=abc' craft eth,ip4,udp ip4.ttl=abc -w x.pcap
bad "bad out of range" 'vxlan\.vni.*16777215|16777216' \
    craft eth,ip4,udp,vxlan vxlan.vni=16777216 -w x.pcap
bad "bad MAC" 'eth\.src' craft eth,ip4,udp eth.src=aa:bb:cc:dd:ee -w x.pcap
bad "bad IPv4" 'ip4\.dst' craft eth,ip4,udp ip4.dst=192.0.2.300 -w x.pcap
bad "bad IPv6" 'ip6\.dst' craft eth,ip6,udp ip6.dst=2001:db8:::1 -w x.pcap
bad "bad duplicate header" 'ip4.*(twice|duplicate)|(twice|duplicate).*ip4' \
    craft 'eth,{ip4,name=inner_ip4},ip4,ip4' -w x.pcap
bad "bad repeated option" 'subtype.*twice' \
    gen 'eth,{ip4,subtype=plain,subtype=*/ int x; /*}'
bad "bad hex twice" '0x0x5' craft eth,ip4,udp ip4.ttl=0x0x5 -w x.pcap
bad "bad size octal" '010' craft eth,ip4,udp --size 010 -w x.pcap
bad "bad size too long" 'ip4\.len.*at most 65549' \
    craft eth,ip4,udp --size 65553 -w x.pcap
bad "bad long name" '"a{80}\.\.\."' explain "eth,$(printf 'a%.0s' \
    $(seq 1 3000))"
bad "bad duplicate label" 'ip4\.ttl' \
    craft eth,ip4,udp ip4.ttl=1 ip4.ttl=2 -w x.pcap
bad "bad layout" 'ip4.*3|3.*ip4' explain 'eth,{ip4,length=3}'
bad "bad size too small" '40.*42|42.*40' craft eth,ip4,udp --size 40 -w x.pcap
bad "bad size syntax" 'abc' craft eth,ip4,udp --size abc -w x.pcap
bad "bad count" '--count' craft eth,ip4,udp --count 0 -w x.pcap
bad "bad vary unknown label" 'ip4\.foo' \
    craft eth,ip4,udp --vary ip4.foo=+1 -w x.pcap
bad "bad vary syntax" 'ip4\.src=1' craft eth,ip4,udp --vary ip4.src=1 -w x.pcap
bad "bad vary step" 'ip4\.src=\+x' \
    craft eth,ip4,udp --vary ip4.src=+x -w x.pcap
bad "bad vary count" 'ip4\.src=\+1:0' \
    craft eth,ip4,udp --vary ip4.src=+1:0 -w x.pcap
bad "bad vary byte field" 'ip4\.options' \
    craft 'eth,{ip4,length=4},udp' --vary ip4.options=+1 -w x.pcap
bad "bad output file" '/nonexistent/x\.pcap' \
    craft eth,ip4,udp -w /nonexistent/x.pcap
bad "bad gen name" '1abc' gen --name 1abc eth,ip4,udp
bad "bad gen label" 'vxlan\.vni' gen eth,ip4,udp,vxlan vxlan.vni=0x1000000
bad "bad gen label syntax" 'vni' gen eth,ip4,udp,vxlan vni

echo "this is not a capture" >notpcap.txt
bad "bad dissect not pcap" 'notpcap\.txt' dissect notpcap.txt
bad "bad dissect missing file" 'missing\.pcap' dissect missing.pcap
: >empty.pcap
bad "bad dissect empty file" 'empty\.pcap' dissect empty.pcap
# A pcapng file: its first block, as tshark, dumpcap and text2pcap write.
printf '\n\r\r\n\034\000\000\000\115\074\053\032\001\000\000\000' >ng.pcapng
printf '\377\377\377\377\377\377\377\377\034\000\000\000' >>ng.pcapng
bad "bad dissect truncated pcapng" 'ng\.pcapng' dissect ng.pcapng
pst craft eth,ip4,udp --count 2 -w two.pcap
bad "bad dissect filter" 'filter "udp port"' dissect two.pcap udp port
bad "bad dissect count" '--count' dissect -c 0 two.pcap
bad "bad dissect interface" 'nosuchif0' dissect -i nosuchif0
# A pcap file cut in the middle of its second packet: the first is
# dumped, then the error.
head -c $((24 + 16 + 42 + 16 + 20)) two.pcap >cut.pcap
bad "bad dissect truncated file" 'cut\.pcap.*packet 2' dissect cut.pcap
# A link type other than Ethernet (101, raw IP) needs --first.
pst craft ip4,udp -w raw.pcap
printf '\145' | dd of=raw.pcap bs=1 seek=20 conv=notrunc 2>/dev/null
bad "bad dissect link type" 'link type RAW' dissect raw.pcap
bad "bad dissect first" '"nosuch"' dissect --first nosuch raw.pcap
run dissect --first ip4 raw.pcap
if [ $rc -eq 0 ] && has out 'ip4: *' && has out 'udp: *'; then
    ok "dissect first"
else
    fail "dissect first" "dissect --first ip4: exit status $rc: $err1"
fi

# A malformed protocol file: "file:line:col: message".
mkdir broken
cat >broken/broken.proto <<'EOF'
protocol broken "A protocol file with a syntax error on line 3" {
    bit<8> kind = 1 "Kind"
    bit<8> flags "Flags";
}
EOF
bad "bad protocols dir" 'broken\.proto:3:[0-9]+: ' list --protocols broken
bad "bad protocols file" 'broken\.proto:3:[0-9]+: ' \
    explain --protocols broken/broken.proto eth
PROTOSTACK_PATH=$tmp/broken
export PROTOSTACK_PATH
bad "bad PROTOSTACK_PATH" 'broken\.proto:3:[0-9]+: ' list
unset PROTOSTACK_PATH
bad "bad protocols missing" '/nonexistent' list --protocols /nonexistent

# list: every shipped protocol, with its description.

run list
missing=
n_files=0
for f in "$shipped"/*.proto; do
    p=${f##*/}
    p=${p%.proto}
    n_files=$((n_files + 1))
    has out "$p *[! ]*" || missing="$missing $p"
done
n_lines=$(lines out)
if [ $rc -ne 0 ]; then
    fail "list" "exit status $rc: $err1"
elif [ -n "$missing" ]; then
    fail "list" "missing:$missing"
elif [ $n_files -ne 28 ] || [ "$n_lines" -ne 28 ]; then
    fail "list" "$n_lines lines for $n_files files, expected 28"
else
    ok "list (28 protocols)"
fi

# Where the protocols come from: built in, a file of the same name on
# PROTOSTACK_PATH or --protocols replaces a shipped one, and
# PROTOSTACK_DATADIR replaces the whole set.
if has out 'vxlan *Virtual eXtensible LAN (RFC 7348)  \[built-in\]'; then
    ok "list says built-in"
else
    fail "list says built-in" "$(grep '^vxlan' out)"
fi
mkdir over
sed 's/"Virtual eXtensible LAN (RFC 7348)"/"VXLAN, our own"/' \
    "$shipped/vxlan.proto" >over/vxlan.proto
run list --protocols over
n_shipped=0
for f in "$shipped"/*.proto; do
    n_shipped=$((n_shipped + 1))
done
if [ $rc -eq 0 ] && has out "vxlan *VXLAN, our own  \[over/vxlan.proto\]" \
        && [ "$(lines out)" -eq $n_shipped ]; then
    ok "--protocols replaces a shipped file of the same name"
else
    fail "--protocols replaces a shipped file" "exit $rc: $(grep '^vxlan' out)"
fi
mkdir only
cp "$shipped/eth.proto" only/
PROTOSTACK_DATADIR=$tmp/only
export PROTOSTACK_DATADIR
run list
unset PROTOSTACK_DATADIR
if [ $rc -eq 0 ] && [ "$(lines out)" -eq 1 ] && has out 'eth *'; then
    ok "PROTOSTACK_DATADIR replaces the built-in set"
else
    fail "PROTOSTACK_DATADIR" "exit $rc: $(lines out) lines"
fi

# explain: one row per field: label, byte.bit offset, width, rule.

run explain eth,ip4,udp,vxlan
if [ $rc -ne 0 ]; then
    fail "explain" "exit status $rc: $err1"
elif ! has out 'stack eth,ip4,udp,vxlan: 50 bytes'; then
    fail "explain" "no \"stack eth,ip4,udp,vxlan: 50 bytes\" line"
elif ! has out 'udp: udp, 8 bytes at 34: User Datagram Protocol*'; then
    fail "explain" "no \"udp: udp, 8 bytes at 34: ...\" line"
else
    ok "explain"
fi
# row LABEL OFFSET BITS RULE: the row of LABEL in 'out' has this offset,
# width and rule (the default column).
row() {
    found=
    while read -r l o b r; do
        if [ "$l" = "$1" ]; then
            found=1
            break
        fi
    done <out
    if [ -z "$found" ]; then
        fail "explain $1" "no row"
    elif [ "$o $b" != "$2 $3" ]; then
        fail "explain $1" "offset and width \"$o $b\", expected \"$2 $3\""
    else
        case "$r " in
            "$4 "*) ok "explain $1" ;;
            *) fail "explain $1" "rule and description \"$r\", expected" \
                    "rule \"$4\"" ;;
        esac
    fi
}
row eth.type 12.0 16 "next(65535) = 0x800"
row ip4.version 14.0 4 "4"
row ip4.ihl 14.4 4 "length(header, unit=4)"
row ip4.ecn 15.6 2 "0"
row ip4.frag 20.3 13 "0"
row ip4.ttl 22.0 8 "64"
row ip4.cksum 24.0 16 "checksum(header)"
row udp.dst 36.0 16 "next(0) = 4789"
row udp.len 38.0 16 "length(rest)"
row vxlan.vni 46.0 24 "0"

# Round trips through the CLI: every stack of tests/stack-cases.h,
# crafted with its labels and 20 bytes of payload, then dissected: the
# stack's protocols in order, every labelled value, no problem.

"$python" - "$srcdir/stack-cases.h" >cases.txt 2>err <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
text = re.sub(r'(?m)^\s*//.*$', '', text)
body = text[text.index('stack_cases[]'):]
body = body[body.index('{') + 1:]
lit = r'"(?:[^"\\]|\\.)*"'
strs = r'(?:%s\s*)+' % lit
def join(s):
    return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', s))
for m in re.finditer(r'\{\s*(%s),\s*(%s|NULL)\s*\}' % (strs, strs), body):
    labels = '' if m.group(2) == 'NULL' else join(m.group(2))
    print(join(m.group(1)) + '\t' + labels)
EOF
n_cases=$(lines cases.txt)
n_expected=$(grep -c '^ *{ *"' "$srcdir/stack-cases.h")
if [ "$n_cases" -ge 20 ] && [ "$n_cases" -eq "$n_expected" ]; then
    ok "stack cases parsed ($n_cases)"
else
    fail "stack cases parsed" "$n_cases stacks parsed, $n_expected in the" \
         "file: $(head -n 1 err)"
fi

i=0
while IFS='	' read -r spec labels; do
    i=$((i + 1))
    name="round trip $i $spec"
    # The dissector reads each VLAN tag as a header of its own: eth's
    # tagged subtypes round-trip as the same bytes with explicit tags.
    case $spec in
        '{eth,subtype=vlan}'*)
            spec="eth,vlan${spec#\{eth,subtype=vlan\}}"
            labels=$(echo "$labels" | sed 's/eth\.\(vid\|pcp\)/vlan.\1/g') ;;
        '{eth,subtype=qinq}'*)
            spec="eth,vlan,vlan${spec#\{eth,subtype=qinq\}}"
            labels=$(echo "$labels" | sed 's/eth\.cvid/inner_vlan.vid/g
                                           s/eth\.vid/vlan.vid/g') ;;
    esac
    pst explain "$spec" >explain$i.txt 2>err || {
        fail "$name" "explain: $(head -n 1 err)"
        continue
    }
    IFS=' ' read -r _ _ size _ <explain$i.txt
    set -f
    IFS=,
    # shellcheck disable=SC2086
    set -- $labels
    unset IFS
    set +f
    pst craft "$spec" "$@" --size $((size + 20)) -w rt$i.pcap 2>err || {
        fail "$name" "craft: $(head -n 1 err)"
        continue
    }
    pst dissect rt$i.pcap >dump$i.txt 2>err || {
        fail "$name" "dissect: $(head -n 1 err)"
        continue
    }
    why=$(awk -v n_files=2 -v labels="$labels" -v expect="+payload: " \
              -f check.awk explain$i.txt dump$i.txt)
    if [ -n "$why" ]; then
        fail "$name" "$why"
    else
        ok "$name"
    fi
done <cases.txt

# Packets for tshark: the stacks above, and --vary and '-w -' below.
# One tshark run decodes them all (it takes a second to start).

# The stacks of the round trips, as crafted.  An IPFIX message's payload
# is a list of sets, which zero bytes are not (tshark: "Flowset Length
# (0) too short"): that stack goes at its own size.
i=0
: >tshark-cases.txt
while IFS='	' read -r spec labels; do
    i=$((i + 1))
    f=rt$i.pcap
    case $spec in
        *,ipfix)
            set -f
            IFS=,
            # shellcheck disable=SC2086
            set -- $labels
            unset IFS
            set +f
            pst craft "$spec" "$@" -w own$i.pcap && f=own$i.pcap ;;
    esac
    [ -f "$f" ] && printf '%s\t%s\t%s\n' "$i" "$spec" "$f" >>tshark-cases.txt
done <cases.txt

# --vary.
pst craft eth,ip6,udp ip6.src=2001:db8::ffff --vary ip6.src=+1 --count 3 \
    -w vary1.pcap
pst craft eth,ip4,udp --vary udp.src=+1000:3 --count 4 -w vary2.pcap
pst craft eth,ip6,udp ip6.src=2001:db8::ffff:ffff:ffff:ffff \
    --vary ip6.src=+1 --count 2 -w vary3.pcap
pst craft eth,ip4,udp eth.src=02:00:00:00:00:ff ip4.dst=192.0.2.1 \
    --vary eth.src=+1 --vary ip4.dst=+256:2 --count 3 --size 60 -w vary4.pcap

# All in one stream: '-w -' first (with its pcap file header), then the
# records of the other files.
{
    pst craft eth,ip4,udp ip4.src=10.0.0.254 udp.dst=9 --vary ip4.src=+1 \
        --count 3 --size 64 -w - 2>stdout.err
    while IFS='	' read -r i spec f; do
        tail -c +25 "$f"
    done <tshark-cases.txt
    for f in vary1.pcap vary2.pcap vary3.pcap vary4.pcap; do
        tail -c +25 $f
    done
} | "$TSHARK" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -o tcp.check_checksum:TRUE -r - -T fields -E separator=';' \
    -E occurrence=a -e frame.number -e frame.len -e _ws.malformed \
    -e _ws.expert.severity -e _ws.expert.message -e eth.src -e ip.src \
    -e ip.dst -e ipv6.src -e udp.srcport -e ip.checksum.status \
    -e udp.checksum.status >tshark.txt 2>tshark.err
# Fields, 1-based: 1 frame.number, 2 frame.len, 3 _ws.malformed,
# 4 _ws.expert.severity, 5 _ws.expert.message, 6 eth.src, 7 ip.src,
# 8 ip.dst, 9 ipv6.src, 10 udp.srcport, 11 ip.checksum.status,
# 12 udp.checksum.status.

# frames FIRST LAST COLUMNS: fields COLUMNS (cut -f) of frames FIRST to
# LAST of tshark.txt, joined with spaces.
frames() {
    awk -F ';' -v first="$1" -v last="$2" -v cols="$3" '
        $1 >= first && $1 <= last {
            n = split(cols, c, ",")
            s = ""
            for (i = 1; i <= n; i++) {
                s = s (i > 1 ? "/" : "") $(c[i])
            }
            out = out (out != "" ? " " : "") s
        }
        END { print out }' tshark.txt
}
# tshark_check NAME FIRST LAST COLUMNS EXPECTED
tshark_check() {
    got=$(frames "$2" "$3" "$4")
    if [ "$got" = "$5" ]; then
        ok "$1"
    else
        fail "$1" "got \"$got\", expected \"$5\""
    fi
}

n_frames=$(lines tshark.txt)
if [ "$n_frames" -eq 0 ]; then
    fail "tshark" "no frames decoded: $(head -n 1 tshark.err)"
fi
tshark_check "write to stdout" 1 3 2,11,12 "64/1/1 64/1/1 64/1/1"
tshark_check "vary ip4 across an octet" 1 3 7 \
    "10.0.0.254 10.0.0.255 10.0.1.0"
n=3
while IFS='	' read -r i spec f; do
    n=$((n + 1))
    got=$(awk -F ';' -v n=$n '$1 == n {
              bad = $3 != ""
              k = split($4, sev, ",")
              for (j = 1; j <= k; j++) {
                  bad = bad || sev[j] + 0 >= 8388608   # PI_ERROR
              }
              print bad ? "bad: " $5 : "good"
          }' tshark.txt)
    case $got in
        good) ok "tshark $i $spec" ;;
        "") fail "tshark $i $spec" "frame $n not decoded" ;;
        *) fail "tshark $i $spec" "$got" ;;
    esac
done <tshark-cases.txt
tshark_check "vary ip6" $((n + 1)) $((n + 3)) 9 \
    "2001:db8::ffff 2001:db8::1:0 2001:db8::1:1"
tshark_check "vary wraps after count" $((n + 4)) $((n + 7)) 10 \
    "0 1000 2000 0"
tshark_check "vary ip6 carry into the upper 64 bits" $((n + 8)) $((n + 9)) 9 \
    "2001:db8::ffff:ffff:ffff:ffff 2001:db8:0:1::"
mac=02:00:00:00
tshark_check "vary two labels" $((n + 10)) $((n + 12)) 6,8 \
    "$mac:00:ff/192.0.2.1 $mac:01:00/192.0.3.1 $mac:01:01/192.0.2.1"
# IPv4 and UDP checksums (status 1: Good; IPv6 has none).
tshark_check "vary checksums" $((n + 1)) $((n + 12)) 11,12 \
    "/1 /1 /1 1/1 1/1 1/1 1/1 /1 /1 1/1 1/1 1/1"

pst craft eth,ip4,udp udp.dst=7777 --size 60 -w - 2>/dev/null \
    | pst dissect - >out 2>err
if has out 'udp: src=0 dst=7777 len=26 *' && has out 'payload: 18 bytes'; then
    ok "dissect from stdin"
else
    fail "dissect from stdin" "craft -w - | dissect -: $(head -n 1 err)"
fi

# dissect --no-verify: a wrong UDP checksum is flagged without it, not
# with it; the headers are the same.
pst craft eth,ip4,udp udp.cksum=0x1234 --size 60 -w noverify.pcap 2>/dev/null
run dissect -q noverify.pcap
q1=$(cat out)
run dissect -q --no-verify noverify.pcap
if [ $rc -eq 0 ] && [ "$q1" = "1 60: eth ip4 udp, payload 18, bad udp.cksum" ] \
   && has out '1 60: eth ip4 udp, payload 18'; then
    ok "dissect no-verify"
else
    fail "dissect no-verify" "exit status $rc; with checks: $q1; without: \
$(head -n 1 out)"
fi

# dissect -x: the hex dump of each header after its line.
run dissect -x rt1.pcap
if [ $rc -eq 0 ] && has out '	0x0000:  0011 2233 4455 aabb ccdd eeff 0800' \
   && has out '	0x002a:  0800 0000 0004 d200'; then
    ok "dissect hex"
else
    fail "dissect hex" "exit status $rc, or no hex lines for eth and vxlan"
fi

# Protocols added at run time.

run craft eth,ip4,udp,demo demo.tag=0xcafe --size 100 -w demo.pcap
if [ $rc -eq 1 ] && [ ! -e demo.pcap ] && has err '*"demo"*'; then
    ok "demo unknown without --protocols"
else
    fail "demo unknown without --protocols" "exit status $rc: $err1"
fi
# demo_dump NAME: checks the dump of demo.pcap in 'out'.
demo_expect="udp:dst=7777|udp:len=66|demo:kind=1|demo:len=58|demo:tag=0xcafe"
demo_expect="$demo_expect|+payload: 50 bytes|-[bad"
demo_dump() {
    if [ $rc -ne 0 ]; then
        fail "$1" "exit status $rc: $err1"
        return
    fi
    why=$(awk -v n_files=1 -v headers="eth ip4 udp demo" \
              -v expect="$demo_expect" -f check.awk out)
    if [ -n "$why" ]; then
        fail "$1" "$why"
    else
        ok "$1"
    fi
}
run craft --protocols "$extra" eth,ip4,udp,demo demo.tag=0xcafe --size 100 \
    -w demo.pcap
if [ $rc -eq 0 ]; then
    run dissect --protocols "$extra" demo.pcap
    demo_dump "protocols option craft and dissect"
    run dissect demo.pcap
    if [ $rc -eq 0 ] && ! has out 'demo*' && has out 'payload: 58 bytes'
    then
        ok "dissect without demo"
    else
        fail "dissect without demo" "exit status $rc, or demo found"
    fi
else
    fail "protocols option craft and dissect" "craft: $err1"
fi
rm -f demo.pcap
PROTOSTACK_PATH=$extra
export PROTOSTACK_PATH
run craft eth,ip4,udp,demo demo.tag=0xcafe --size 100 -w demo.pcap
if [ $rc -eq 0 ]; then
    run dissect demo.pcap
    demo_dump "PROTOSTACK_PATH craft and dissect"
else
    fail "PROTOSTACK_PATH craft and dissect" "craft: $err1"
fi
run explain eth,ip4,udp,demo
if has out '  demo.tag  *46.0  *32 *'; then
    ok "PROTOSTACK_PATH explain"
else
    fail "PROTOSTACK_PATH explain" "no demo.tag row: $err1"
fi
unset PROTOSTACK_PATH
run explain --protocols "$extra/demo.proto" eth,ip4,udp,demo
if has out 'demo: demo, 8 bytes at 42: *' && has out '  udp.dst * = 7777 *'
then
    ok "protocols option file"
else
    fail "protocols option file" "exit status $rc: $err1"
fi

# Options after the operands, as the usages and docs/c-api.md write
# them ("protostack explain eth,ip4,udp,demo --protocols tests/extra").
run explain eth,ip4,udp,demo --protocols "$extra"
if [ $rc -eq 0 ] && has out 'demo: demo, 8 bytes at 42: *'; then
    ok "explain option after SPEC"
else
    fail "explain option after SPEC" \
         "explain SPEC --protocols DIR: exit status $rc: $err1"
fi
run dissect rt1.pcap -x
if [ $rc -eq 0 ] && has out '	0x0000: *'; then
    ok "dissect option after FILE"
else
    fail "dissect option after FILE" "dissect FILE -x: exit status $rc: $err1"
fi

# Dissect of pcaps written by Scapy.

if "$python" - <<'EOF' 2>scapy.err
import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, IP, UDP, TCP, Dot1AD, Dot1Q, Ether, GRE, IPv6,
                       ICMPv6EchoRequest, Raw, wrpcap)
from scapy.contrib.geneve import GENEVE
from scapy.contrib.gtp import GTP_U_Header
from scapy.contrib.mpls import MPLS
from scapy.layers.vxlan import VXLAN

A, B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
C, D = "02:00:00:00:00:0c", "02:00:00:00:00:0d"
outer = Ether(src=A, dst=B) / IP(src="192.0.2.1", dst="198.51.100.2")
inner = Ether(src=C, dst=D) / IP(src="10.0.0.1", dst="10.0.0.2")
frames = {
    "vxlan": outer / UDP(sport=49152, dport=4789) / VXLAN(flags=8, vni=5000)
             / inner / TCP(sport=1234, dport=80, flags="S") / Raw(b"x" * 10),
    "gre": outer / GRE(key_present=1, key=0x1234, proto=0x6558)
           / inner / UDP(sport=1111, dport=2222) / Raw(b"y" * 4),
    "qinq": Ether(src=A, dst=B) / Dot1AD(vlan=10, prio=3) / Dot1Q(vlan=20)
            / IP(src="192.0.2.1", dst="198.51.100.2")
            / UDP(sport=1000, dport=2000) / Raw(b"q" * 8),
    "mpls": Ether(src=A, dst=B, type=0x8847) / MPLS(label=100, s=0, ttl=63)
            / MPLS(label=200, s=1, ttl=62)
            / IP(src="192.0.2.1", dst="198.51.100.2")
            / UDP(sport=1111, dport=2222) / Raw(b"m" * 4),
    "geneve": outer / UDP(sport=50000, dport=6081)
              / GENEVE(vni=77, proto=0x6558) / inner
              / UDP(sport=1111, dport=2222) / Raw(b"g" * 4),
    "gtpu": outer / UDP(sport=2152, dport=2152) / GTP_U_Header(teid=0xabcdef)
            / IP(src="10.1.1.1", dst="10.2.2.2")
            / UDP(sport=5000, dport=6000) / Raw(b"u" * 6),
    "icmp6": Ether(src=A, dst=B)
             / IPv6(src="2001:db8::a", dst="2001:db8:1::b", hlim=7)
             / ICMPv6EchoRequest(id=0x42, seq=7),
    "arp": Ether(src=A, dst="ff:ff:ff:ff:ff:ff")
           / ARP(op=1, hwsrc=A, psrc="192.0.2.1", pdst="192.0.2.254"),
    "badcksum": Ether(src=A, dst=B)
                / IP(src="192.0.2.1", dst="198.51.100.2", chksum=0x1234)
                / UDP(sport=1111, dport=2222) / Raw(b"z" * 20),
    "truncated": outer / TCP(sport=1234, dport=80),
    "padded": outer / UDP(sport=1234, dport=5678) / Raw(b"hi"),
}
for name, frame in frames.items():
    data = bytes(frame)
    if name == "truncated":
        data = data[:14 + 20 + 10]      # 10 of the 20 bytes of TCP.
    elif name == "padded":
        data += bytes(60 - len(data))   # Ethernet minimum frame size.
    wrpcap("scapy-%s.pcap" % name, [Ether(data)])
EOF
then
    scapy_ok=1
else
    scapy_ok=
    fail "scapy" "$python could not write the pcaps: $(tail -n 1 scapy.err)"
fi

# scapy NAME HEADERS EXPECT...: dissects scapy-NAME.pcap; HEADERS are the
# header names in order; each EXPECT as for check.awk.
scapy() {
    name="dissect scapy $1"
    f=scapy-$1.pcap
    want=$2
    shift 2
    expect=
    for e; do
        expect="$expect${expect:+|}$e"
    done
    if [ -z "$scapy_ok" ] || [ ! -f "$f" ]; then
        fail "$name" "no $f"
        return
    fi
    run dissect "$f"
    if [ $rc -ne 0 ]; then
        fail "$name" "exit status $rc: $err1"
        return
    fi
    why=$(awk -v n_files=1 -v headers="$want" -v expect="$expect" \
              -f check.awk out)
    if [ -n "$why" ]; then
        fail "$name" "$why"
    else
        ok "$name"
    fi
}
scapy vxlan "eth ip4 udp vxlan inner_eth inner_ip4 tcp" \
    eth:src=02:00:00:00:00:0a ip4:dst=198.51.100.2 udp:dst=4789 \
    vxlan:flags=0x8 vxlan:vni=5000 inner_eth:dst=02:00:00:00:00:0d \
    inner_ip4:src=10.0.0.1 inner_ip4:proto=6 tcp:src=1234 tcp:dst=80 \
    tcp:syn=1 "+inner_eth (eth): " "+inner_ip4 (ip4): " \
    "+payload: 10 bytes" "-[bad" "-truncated"
scapy gre "eth ip4 gre inner_eth inner_ip4 udp" \
    ip4:proto=47 gre:k=1 gre:c=0 gre:key=0x1234 gre:proto=0x6558 \
    inner_eth:src=02:00:00:00:00:0c inner_ip4:dst=10.0.0.2 udp:dst=2222 \
    "+payload: 4 bytes" "-[bad" "-truncated"
scapy qinq "eth vlan inner_vlan ip4 udp" \
    eth:type=0x88a8 vlan:vid=10 vlan:pcp=3 vlan:type=0x8100 \
    inner_vlan:vid=20 inner_vlan:type=0x800 udp:src=1000 udp:dst=2000 \
    "+payload: 8 bytes" "-[bad"
scapy mpls "eth mpls inner_mpls ip4 udp" \
    eth:type=0x8847 mpls:label=100 mpls:s=0 mpls:ttl=63 \
    inner_mpls:label=200 inner_mpls:s=1 inner_mpls:ttl=62 \
    ip4:src=192.0.2.1 udp:dst=2222 "+inner_mpls (mpls): " \
    "+payload: 4 bytes" "-[bad"
scapy geneve "eth ip4 udp geneve inner_eth inner_ip4 inner_udp" \
    udp:dst=6081 geneve:vni=77 geneve:proto=0x6558 geneve:opt_len=0 \
    inner_eth:dst=02:00:00:00:00:0d inner_ip4:src=10.0.0.1 \
    inner_udp:dst=2222 "+inner_udp (udp): " "+payload: 4 bytes" "-[bad"
scapy gtpu "eth ip4 udp gtpu inner_ip4 inner_udp" \
    udp:dst=2152 gtpu:teid=0xabcdef gtpu:len=34 inner_ip4:src=10.1.1.1 \
    inner_ip4:dst=10.2.2.2 inner_udp:src=5000 inner_udp:dst=6000 \
    "+payload: 6 bytes" "-[bad"
scapy icmp6 "eth ip6 icmp6" \
    eth:type=0x86dd ip6:src=2001:db8::a ip6:dst=2001:db8:1::b ip6:next=58 \
    ip6:hlim=7 ip6:plen=8 icmp6:type=128 icmp6:id=66 icmp6:seq=7 "-[bad"
scapy arp "eth arp" \
    eth:dst=ff:ff:ff:ff:ff:ff eth:type=0x806 arp:op=1 \
    arp:sha=02:00:00:00:00:0a arp:spa=192.0.2.1 arp:tpa=192.0.2.254 "-[bad"
scapy badcksum "eth ip4 udp" \
    ip4:cksum=0x1234 "+cksum=0x1234 [bad cksum 0x1234 (expected 0x" \
    udp:dst=2222 "+payload: 20 bytes"
scapy truncated "eth ip4" "+truncated: " ip4:proto=6 ip4:len=40
scapy padded "eth ip4 udp" \
    ip4:len=30 udp:len=10 udp:dst=5678 "+payload: 2 bytes" \
    "+trailer: 16 bytes" "-[bad" "-truncated"

# dissect --text2pcap, fed to text2pcap, gives the same packets.
{
    cat rt1.pcap
    tail -c +25 rt9.pcap
    tail -c +25 vary1.pcap
    for f in scapy-*.pcap; do
        [ -f "$f" ] && tail -c +25 "$f"
    done
} >t2p-in.pcap
run dissect --text2pcap t2p-in.pcap
if [ $rc -ne 0 ]; then
    fail "text2pcap" "dissect --text2pcap: exit status $rc: $err1"
elif grep -v -q -E '^(# |[0-9a-f]{6} ( [0-9a-f]{2})+$)' out; then
    fail "text2pcap" "a line neither comment nor hex: $(grep -v -E \
        '^(# |[0-9a-f]{6} ( [0-9a-f]{2})+$)' out | head -n 1)"
elif ! { "$text2pcap" -q -F pcap out t2p-out.pcap >/dev/null 2>&1 \
         || "$text2pcap" -q out t2p-out.pcap >/dev/null 2>&1; }; then
    fail "text2pcap" "$text2pcap failed"
else
    # Compare the packets' bytes (text2pcap may write pcapng: then
    # through tshark -x).
    "$python" - t2p-in.pcap t2p-out.pcap >cmp.txt 2>&1 <<'EOF'
import struct, sys
def packets(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\n\r\r\n":
        return None
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, i = [], 24
    while i < len(data):
        caplen = struct.unpack(e + "I", data[i + 8:i + 12])[0]
        out.append(data[i + 16:i + 16 + caplen])
        i += 16 + caplen
    return out
a, b = packets(sys.argv[1]), packets(sys.argv[2])
if b is None:
    print("pcapng")
elif a != b:
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), None)
    print("%d packets in, %d out; first difference: packet %s"
          % (len(a), len(b), n if n is None else n + 1))
else:
    print("same %d" % len(a))
EOF
    IFS= read -r cmp <cmp.txt
    case $cmp in
        "same "*)
            n=${cmp#same }
            if [ "$n" -ge 10 ]; then
                ok "text2pcap ($n packets)"
            else
                fail "text2pcap" "only $n packets"
            fi ;;
        pcapng)
            "$TSHARK" -r t2p-in.pcap -x >x-in.txt 2>/dev/null
            "$TSHARK" -r t2p-out.pcap -x >x-out.txt 2>/dev/null
            if cmp -s x-in.txt x-out.txt && [ -s x-in.txt ]; then
                ok "text2pcap"
            else
                fail "text2pcap" "tshark -x differs"
            fi ;;
        *) fail "text2pcap" "$cmp" ;;
    esac
fi

# A field marked @magic that does not hold its constant where a binding
# chose the protocol (IPv4 after EtherType 0x0800, with version 6) is
# reported (docs/definition-language.md, "@magic").
pst craft eth,ip4,udp ip4.version=6 --size 60 -w magic.pcap
run dissect magic.pcap
while IFS= read -r line; do
    case $line in
        "ip4: "*) break ;;
    esac
done <out
case $line in
    *"version=6 ["*) ok "dissect reports a bad magic field" ;;
    *) fail "dissect reports a bad magic field" \
            "ip4 version 6 after eth.type 0x800 not flagged: \"$line\"" ;;
esac

# gen: the header compiles with the source tree's include/, and gives
# the same bytes as craft.

run gen eth,ip4,udp --name my_stack
if [ $rc -eq 0 ] && has out 'struct my_stack *'; then
    ok "gen option after SPEC"
else
    fail "gen option after SPEC" \
         "gen eth,ip4,udp --name my_stack: exit status $rc: $err1"
fi
run gen --name my_stack eth,ip4,udp
mv out my_stack.h
cat >my_stack_test.c <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include "my_stack.h"

int
main(void)
{
    uint8_t buf[60] = { 0 };
    struct my_stack *p = (void *) buf;

    my_stack_fill(p);
    my_stack_ip4_src_set(p, 0xc0000201);        /* 192.0.2.1 */
    my_stack_udp_dst_set(p, 4789);
    my_stack_set_length(p, sizeof buf);
    my_stack_fix_checksums(p, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
    return my_stack_ip4_ttl_get(p) == 64 && sizeof *p == 42 ? 0 : 1;
}
EOF
if [ $rc -ne 0 ] || [ ! -s my_stack.h ]; then
    fail "gen compiles" "gen --name my_stack eth,ip4,udp: $err1"
elif ! "$cc" -std=c99 -Wall -I"$srcdir/../include" -I. -c my_stack_test.c \
        -o my_stack_test.o >cc.txt 2>&1; then
    fail "gen compiles" "$cc -c: $(head -n 1 cc.txt)"
else
    ok "gen compiles"
    if "$cc" my_stack_test.o -o my_stack_test >cc.txt 2>&1 \
       && ./my_stack_test >gen-bytes.txt; then
        pst craft eth,ip4,udp ip4.src=192.0.2.1 udp.dst=4789 --size 60 -w - \
            | tail -c 60 | od -An -tx1 -v | tr -d ' \n' >craft-bytes.txt
        echo >>craft-bytes.txt
        if cmp -s gen-bytes.txt craft-bytes.txt; then
            ok "gen same bytes as craft"
        else
            fail "gen same bytes as craft" "$(cat gen-bytes.txt) vs" \
                 "$(cat craft-bytes.txt)"
        fi
    else
        fail "gen same bytes as craft" "link or run: $(head -n 1 cc.txt)"
    fi
fi

# gen with labels: NAME_encap() writes what craft writes with the same
# labels, its IPv4 checksum computed incrementally from the template's.
run gen 'eth,ip4,udp,vxlan' ip4.src=192.0.2.1 ip4.dst=192.0.2.254 \
    vxlan.vni=1234 udp.src=4000 --name tun
mv out tun.h
cat >tun_test.c <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include "tun.h"

int
main(void)
{
    uint8_t buf[114] = { 0 };

    tun_encap((struct tun *) buf, sizeof buf, 0x12345678);
    for (size_t i = 0; i < sizeof buf; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
    return 0;
}
EOF
if [ $rc -ne 0 ] || [ ! -s tun.h ]; then
    fail "gen with labels" "gen eth,ip4,udp,vxlan LABELS: $err1"
elif ! "$cc" -std=c99 -Wall -I"$srcdir/../include" -I. tun_test.c \
        -o tun_test >cc.txt 2>&1 || ! ./tun_test >gen-bytes.txt; then
    fail "gen with labels" "$cc: $(head -n 1 cc.txt)"
else
    pst craft 'eth,ip4,udp,vxlan' ip4.src=192.0.2.1 ip4.dst=192.0.2.254 \
        vxlan.vni=1234 udp.src=4000 --size 114 -w - \
        | tail -c 114 | od -An -tx1 -v | tr -d ' \n' >craft-bytes.txt
    echo >>craft-bytes.txt
    if cmp -s gen-bytes.txt craft-bytes.txt; then
        ok "gen with labels: NAME_encap() writes what craft writes"
    else
        fail "gen with labels" "$(cat gen-bytes.txt) vs $(cat craft-bytes.txt)"
    fi
fi

# Captures through libpcap: pcapng as tshark writes it, BPF filters,
# --count, and a live capture on the loopback interface.
pst craft eth,ip4,udp udp.dst=9 --count 3 --vary udp.src=+1 -w three.pcap
if command -v editcap >/dev/null 2>&1; then
    editcap -F pcapng three.pcap three.pcapng
    run dissect three.pcapng
    pst dissect three.pcap >three-pcap.txt
    if [ $rc -eq 0 ] && cmp -s out three-pcap.txt; then
        ok "dissect pcapng as pcap"
    else
        fail "dissect pcapng as pcap" "exit $rc: $err1"
    fi
else
    fail "dissect pcapng as pcap" "editcap (wireshark-common) not found"
fi
run dissect three.pcap udp src port 1
if [ $rc -eq 0 ] && [ "$(grep -c '^packet' out)" = 1 ] \
        && has out 'udp: src=1 dst=9 *'; then
    ok "dissect with a BPF filter"
else
    fail "dissect with a BPF filter" "exit $rc: $(cat out)"
fi
run dissect -c 2 three.pcap
if [ $rc -eq 0 ] && [ "$(grep -c '^packet' out)" = 2 ]; then
    ok "dissect -c"
else
    fail "dissect -c" "exit $rc: $(grep -c '^packet' out) packets"
fi
# Live: capture one UDP datagram sent to a loopback port (root only).
if [ "$(id -u)" = 0 ]; then
    "$bin" dissect -i lo -c 1 udp dst port 47999 >live.txt 2>live.err &
    live=$!
    sent=0
    for i in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.3
        "$python" -c 'import socket; s = socket.socket(socket.AF_INET, \
socket.SOCK_DGRAM); s.sendto(b"protostack", ("127.0.0.1", 47999))'
        sent=$((sent + 1))
        if grep -q '^packet' live.txt 2>/dev/null; then
            break
        fi
    done
    wait $live
    if grep -q 'udp: src=[0-9]* dst=47999 len=18' live.txt; then
        ok "dissect -i lo, live"
    else
        fail "dissect -i lo, live" "$(cat live.txt live.err | head -n 3)"
    fi
else
    ok "dissect -i lo, live: skipped (not root)"
fi

# --pad: an Ethernet-padded short frame whose lengths and checksums leave
# the padding out, as tshark verifies; dissect calls the padding a trailer.
run craft eth,ip4,udp udp.dst=9 --pad 60 -w pad.pcap
got=$("$TSHARK" -r pad.pcap -o udp.check_checksum:TRUE -T fields \
      -e frame.len -e ip.len -e udp.checksum.status 2>/dev/null)
if [ "$rc" -eq 0 ] && [ "$got" = "60	28	1" ]; then
    ok "craft --pad"
else
    fail "craft --pad" "exit $rc, tshark says \"$got\""
fi
run dissect pad.pcap
if [ "$rc" -eq 0 ] && has out "trailer: 18 bytes" \
        && ! has out "*bad*"; then
    ok "dissect of a padded frame"
else
    fail "dissect of a padded frame" "exit $rc: $(cat out)"
fi

# -q: one line per packet.
run dissect -q pad.pcap
if [ "$rc" -eq 0 ] && [ "$(cat out)" = "1 60: eth ip4 udp" ]; then
    ok "dissect -q"
else
    fail "dissect -q" "exit $rc: $(cat out)"
fi

# The tool as installed in the build tree (the checks above may have run
# the binary behind libtool's wrapper).
if "$tool" list >out 2>err && [ "$(lines out)" -eq 28 ]; then
    ok "tool at utilities/protostack"
else
    fail "tool at utilities/protostack" "$(head -n 1 err)"
fi

finish
