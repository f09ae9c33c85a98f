#!/usr/bin/env Rscript
# Generate the R version cross-check corpus for the Swift `Specs` module.
#
# Every expected value comes from the R that runs this script: base R's
# compareVersion() and the package_version comparison operators (<, ==, >),
# for generated pairs of versions (random components, mixed '.' and '-',
# different lengths, zeros, leading zeros, numbers up to R's integer limit),
# plus which strings numeric_version() refuses. The Swift tests
# (Tests/SpecsTests/RVersionCrossCheckTests.swift) must agree on all of it.
#
# Deterministic: a fixed seed, so running it again writes the same file for
# the same R.
#
# Usage: Rscript scripts/gen-rversion-cases.R OUT.json

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1L) stop("usage: gen-rversion-cases.R OUT.json")
set.seed(20261130L)

component <- function() {
  kind <- sample.int(10L, 1L)
  if (kind <= 3L) return(as.character(sample(0:12, 1L)))
  if (kind <= 5L) return("0")
  if (kind == 6L) return(sprintf("0%d", sample(0:9, 1L)))          # leading zero
  if (kind == 7L) return(as.character(sample(10:999, 1L)))
  if (kind == 8L) return(as.character(sample(1000:99999, 1L)))
  if (kind == 9L) return(as.character(.Machine$integer.max - sample(0:2, 1L)))
  as.character(sample(20000101:20991231, 1L))                       # date-like
}

join <- function(parts) {
  if (length(parts) == 1L) return(parts)
  seps <- sample(c(".", "-"), length(parts) - 1L, replace = TRUE, prob = c(0.7, 0.3))
  paste0(c(rbind(parts[-length(parts)], seps), parts[length(parts)]), collapse = "")
}

random_parts <- function() vapply(seq_len(sample(2:6, 1L)), function(i) component(), "")

# A neighbour of `parts`: most interesting pairs differ in one place only.
neighbour <- function(parts) {
  n <- length(parts)
  switch(sample.int(6L, 1L),
    parts,                                                         # same numbers, maybe other separators
    { i <- sample.int(n, 1L); parts[i] <- as.character(max(0, as.numeric(parts[i]) + sample(c(-1, 1), 1L))); parts },
    c(parts, component()),                                         # longer, equal prefix
    if (n > 2L) parts[-n] else c(parts, "0"),                      # shorter
    c(parts, "0"),                                                 # trailing zero
    { i <- sample.int(n, 1L); parts[i] <- paste0("0", parts[i]); parts })  # leading zero
}

clamp <- function(parts) {
  vapply(parts, function(p) if (as.numeric(p) > .Machine$integer.max) as.character(.Machine$integer.max) else p, "")
}

n <- 6000L
a <- character(n); b <- character(n)
for (i in seq_len(n)) {
  pa <- random_parts()
  pb <- if (runif(1L) < 0.7) clamp(neighbour(pa)) else random_parts()
  a[i] <- join(pa); b[i] <- join(pb)
}

pa <- package_version(a); pb <- package_version(b)
cmp <- mapply(compareVersion, a, b, USE.NAMES = FALSE)
lt <- pa < pb; eq <- pa == pb; gt <- pa > pb
if (any(is.na(c(cmp, lt, eq, gt)))) stop("R gave NA for a generated pair")

# Which strings R itself refuses as versions (numeric_version, not strict).
candidates <- c("1", "1.0", "1-0", "1.2-3.4", "007", "0.0.0.0.0.0", "2147483647.1",
                "", ".", "1.", ".1", "1..2", "1.-2", "-1", "1-", "a", "1a", "1.0a",
                "1,2", "1_2", "1.2 3", "v1.0", "1.0.dev1", "1e3", "0x10", "+1", "1.+2")
refused <- is.na(numeric_version(candidates, strict = FALSE))

quote <- function(s) paste0('"', gsub('(["\\\\])', "\\\\\\1", s), '"')
tf <- function(x) ifelse(x, "true", "false")
pairs <- sprintf('    {"a": %s, "b": %s, "compareVersion": %d, "lt": %s, "eq": %s, "gt": %s}',
                 quote(a), quote(b), as.integer(cmp), tf(lt), tf(eq), tf(gt))
validity <- sprintf('    {"text": %s, "valid": %s}', quote(candidates), tf(!refused))
out <- c("{",
         sprintf('  "r": %s,', quote(R.version.string)),
         '  "pairs": [', paste(pairs, collapse = ",\n"), "  ],",
         '  "validity": [', paste(validity, collapse = ",\n"), "  ]",
         "}")
writeLines(out, args[[1L]])
cat(sprintf("%d pairs, %d validity cases from %s\n", n, length(candidates), R.version.string))
