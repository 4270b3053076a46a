# What a candidate may read, checked on what the real preprocessor did rather than on the source text (which
# comments, token pasting and computed includes can disguise). One copy for both builds: src/build/policy.ts runs it
# for the WASM screen, run.sh on native hosts. Prints why the candidate is refused and exits 1, or exits 0.
#
# Files (in this order on the command line, each named by a variable):
#   search  `cc -E -v` of an empty input: the compiler's <...> search list
#   deps    the dependency file of the candidate's preprocessing (-MD -MF): every file it opened, __has_include
#           and #embed hits included
#   pre     the preprocessed candidate (-E), with its line markers
# Variables: cand (the candidate's path as compiled), local (the kb_simd.h copy), idir (the -I directory), own
# (kbench's generated files, space-separated), allowed (system headers a candidate may include itself).
BEGIN {
  split(allowed, names, " ")
  for (i in names) allowedName[names[i]] = 1
  split(own, owned, " ")
  for (i in owned) ownFile[owned[i]] = 1
  ownFile[cand] = 1
  ownFile[local] = 1
  allowedList = allowed
  gsub(/ /, "> <", allowedList)
  hex = "0123456789abcdef"
}

function refuse(why) {
  print why
  refused = 1
  exit 1
}

function clean(p) {
  while (substr(p, 1, 2) == "./") p = substr(p, 3)
  return p
}

# A header of the toolchain itself: inside a search directory, without climbing out of it by "..".
function systemHeader(p,   d, rest) {
  for (d in sysdir) {
    if (index(p, d "/") != 1) continue
    rest = "/" substr(p, length(d) + 2) "/"
    if (rest !~ /\/\.\.?\//) return d
  }
  return ""
}

# p with "." and "dir/.." components removed, as written (symbolic links are not followed).
function resolved(p,   n, part, out, i, k) {
  n = split(p, part, "/")
  k = 0
  for (i = 1; i <= n; i++) {
    if (part[i] == "" || part[i] == ".") continue
    if (part[i] == ".." && k > 0 && out[k] != "..") k--
    else out[++k] = part[i]
  }
  p = substr(p, 1, 1) == "/" ? "" : "."
  for (i = 1; i <= k; i++) p = p "/" out[i]
  return p
}

function mayRead(p) {
  p = clean(p)
  return (p in ownFile) || systemHeader(p) != ""
}

# kb_simd.h, or an allowed name found in a search directory (emcc's compat/math.h is math.h of .../include/compat).
function mayIncludeDirectly(p,   d) {
  p = clean(p)
  if (p == local) return 1
  for (d in sysdir) if (index(p, d "/") == 1 && (substr(p, length(d) + 2) in allowedName)) return 1
  return 0
}

FILENAME == search {
  if ($0 ~ /^#include <\.\.\.> search starts here:/) listing = 1
  else if ($0 ~ /^End of search list\./) listing = 0
  else if (listing) {
    d = $0
    sub(/^ +/, "", d)
    sub(/ \(framework directory\)$/, "", d)
    sub(/\/+$/, "", d)
    # gcc lists a cross sysroot as .../12/../../../../aarch64-linux-gnu/include but opens some headers by the
    # resolved path: both spellings are the directory
    if (clean(d) != idir && d != "") sysdir[d] = sysdir[resolved(d)] = 1
  }
  next
}

FILENAME == deps {
  line = $0
  sub(/\\$/, "", line)
  gsub(/\\ /, "\001", line)
  n = split(line, word, " ")
  for (i = 1; i <= n; i++) {
    if (!targetDone) { if (word[i] ~ /:$/) targetDone = 1; continue }
    gsub("\001", " ", word[i])
    if (!mayRead(word[i])) refuse("reads " word[i] ", which is neither an allowed header nor in the compiler's own include directories")
  }
  next
}

# Line markers: '# <line> "<file>" <flags>', flag 1 entering an included file, 2 returning from one; a marker
# naming another file without either is a #line (or gcc's own switch to <built-in> and <command-line>).
FILENAME == pre && /^# [0-9]+ "/ {
  q = index($0, "\"")
  match($0, /"[ 0-9]*$/)
  file = substr($0, q + 1, RSTART - q - 1)
  flags = substr($0, RSTART + 1)
  pseudo = file ~ /^<(built-in|command line|command-line)>$/
  if (flags ~ / 1( |$)/) {
    if (!pseudo && !mayRead(file))
      refuse("includes " file ", which is neither an allowed header nor in the compiler's own include directories")
    if (!pseudo && top == cand && !mayIncludeDirectly(file))
      refuse("includes " file "; a candidate may include only \"kb_simd.h\" and <" allowedList ">")
  } else if (flags !~ / 2( |$)/ && top != "" && file != top && file != cand && !pseudo) {
    refuse("#line names another file (" file "): diagnostics would quote it")
  }
  top = file
  next
}

# Pragmas that read or mark files (GCC dependency, include_alias, pch_preprocess, system_header, clang __debug);
# a pragma's strings are scanned like any others below (#pragma clang section names sections).
FILENAME == pre && /^[ \t]*#[ \t]*pragma/ && tolower($0) ~ /include|embed|dependency|__debug|system_header|pch/ {
  refuse("#pragma that can read files: " substr($0, 1, 80))
}

FILENAME == pre && index($0, "\"") { scanStrings($0) }
FILENAME == pre && !index($0, "\"") && $0 ~ /[^ \t]/ { run = "" }

# String literals decoded (escapes included) and joined as the compiler joins adjacent ones: assembler text in an
# asm statement, an asm label or a section name must not carry a directive that reads files (.incbin, .include),
# names them (.file) or builds directive names (.macro, .irp). A ' inside a number is a C23 digit separator, not a
# character literal that would hide the strings after it; raw string literals (clang accepts R"(…)" in C) are refused.
function scanStrings(s,   i, c, n, inStr, inNumber, quote, code, k, d) {
  n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (!inStr) {
      if (inNumber && c ~ /[0-9A-Za-z_.']/) continue
      inNumber = c ~ /[0-9]/ && substr(s, i - 1, 1) !~ /[A-Za-z0-9_]/
      if (inNumber) { run = ""; continue }
      if (c == "R" && substr(s, i + 1, 1) == "\"") refuse("raw string literal: " substr(s, i, 60))
      if (c == "\"" || c == "'") { inStr = 1; quote = c; continue }
      if (c ~ /[ \t]/) continue
      # an encoding prefix (u8"…", L"…") keeps a run of adjacent literals going
      if (substr(s, i) ~ /^(u8|[uUL])"/) { i += substr(s, i, 2) == "u8"; continue }
      run = ""
      continue
    }
    if (c == quote) { inStr = 0; if (quote == "\"") checkRun(); continue }
    if (c == "\\") {
      c = substr(s, ++i, 1)
      code = -1
      if (c ~ /[0-7]/) {
        code = 0
        for (k = 0; k < 3 && substr(s, i, 1) ~ /[0-7]/; k++) code = code * 8 + substr(s, i++, 1)
        i--
      } else if (c == "x" || c == "u" || c == "U") {
        code = 0
        while ((d = index(hex, tolower(substr(s, i + 1, 1)))) > 0) { code = code * 16 + d - 1; i++ }
      } else if (c == "n") c = "\n"
      else if (c == "t") c = "\t"
      else if (c ~ /[abfvr]/) c = " "
      if (code >= 0) c = code > 0 && code < 128 ? sprintf("%c", code) : " "
    }
    if (quote == "\"") run = run c
  }
}

function checkRun(   shown) {
  if (tolower(run) !~ /(^|[^a-z0-9_$])\.(inc|file|macro|irp)/) return
  shown = substr(run, 1, 80)
  gsub(/\n/, "\\n", shown)
  gsub(/\t/, "\\t", shown)
  refuse("assembler directive in a string literal: \"" shown "\"")
}

END {
  if (refused) exit 1
  if (!targetDone) refuse("the preprocessor listed no dependencies")
}
