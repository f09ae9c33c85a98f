#!/bin/sh
# install: ONE R process for every missing or unsatisfied package of one library.
# Arguments: LIBRARY REPO... -- ENTRY...; an ENTRY is "name" or "name OP version"
# (validated by labsync: no spaces or quotes inside). Names and versions reach R
# only as data (commandArgs); the R program below is fixed text.
# Exit 3: a range the repositories cannot satisfy (nothing installed);
# exit 4: R finished but a package is missing or has the wrong version.
exec Rscript --vanilla -e '
args <- commandArgs(trailingOnly = TRUE)
lib <- args[1]
sep <- match("--", args)
repos <- args[2:(sep - 1)]
entries <- if (sep < length(args)) strsplit(args[(sep + 1):length(args)], " ", fixed = TRUE) else list()
options(warn = 1, repos = repos)
.libPaths(c(lib, .libPaths()))
check <- function(version, e) {
  if (length(e) < 3) return(TRUE)
  v <- numeric_version(version); w <- numeric_version(e[3])
  switch(e[2], ">=" = v >= w, ">" = v > w, "<=" = v <= w, "<" = v < w, "==" = v == w, FALSE)
}
label <- function(e) if (length(e) < 3) e[1] else sprintf("%s (%s %s)", e[1], e[2], e[3])
avail <- available.packages(repos = repos)
ranges <- character(); pins <- list(); problems <- character()
for (e in entries) {
  name <- e[1]
  if (length(e) == 3 && e[2] == "==") { pins[[name]] <- e[3]; next }
  offered <- if (name %in% rownames(avail)) avail[name, "Version"] else NA
  if (is.na(offered)) {
    problems <- c(problems, sprintf("%s: the repositories (%s) do not offer %s", label(e),
      paste(repos, collapse = ", "), name))
  } else if (!check(offered, e)) {
    problems <- c(problems, sprintf("%s: the repositories offer %s %s, which does not satisfy it", label(e),
      name, offered))
  } else ranges <- c(ranges, name)
}
if (length(problems)) { message("labsync: cannot install: ", paste(problems, collapse = "; ")); quit(status = 3) }
# Pins first: a range installed afterwards finds its pinned dependency in place.
for (name in names(pins)) {
  remotes::install_version(name, version = pins[[name]], repos = repos, lib = lib, upgrade = "never", quiet = TRUE)
}
if (length(ranges)) install.packages(ranges, lib = lib, repos = repos, available = avail, type = "source")
bad <- character()
for (e in entries) {
  desc <- suppressWarnings(packageDescription(e[1], lib.loc = lib, fields = "Version"))
  if (is.na(desc)) bad <- c(bad, sprintf("%s is not installed", e[1]))
  else if (!check(desc, e)) bad <- c(bad, sprintf("%s %s is installed but %s was asked for", e[1], desc, label(e)))
}
if (length(bad)) { message("labsync: install failed: ", paste(bad, collapse = "; ")); quit(status = 4) }
' "$@"
