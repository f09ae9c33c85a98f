#!/usr/bin/env bash
# A tiny CRAN-like repository for tests: real source packages made with
# `R CMD build`, indexed with tools::write_PACKAGES, older versions under
# src/contrib/Archive/<pkg>/ and listed in src/contrib/Meta/archive.rds the way
# CRAN lists them (remotes::install_version looks there for exact pins).
#
#   fxr          0.3-0 current, 0.2-1 in the Archive; fxr_version() returns its version
#   labsyncdemo  1.0    Imports: fxr; hello() says which fxr it runs with
#   fxrange      0.1-0  Imports: fxr (>= 0.3-0)
#
# Usage: scripts/make-cran-fixture.sh OUT   (OUT is created; the repository URL
# is file://OUT). Needs r-base-core and r-base-dev. No network.
set -euo pipefail
out=${1:?usage: make-cran-fixture.sh OUT}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package NAME VERSION IMPORTS EXPORTS R-CODE
package() {
  local dir="$work/src/$1-$2/$1"
  mkdir -p "$dir/R"
  {
    echo "Package: $1"
    echo "Version: $2"
    echo "Title: Test Package $1 for labsync"
    echo "Description: A tiny package for labsync's tests; it does nothing useful."
    echo "Authors@R: person('labsync', 'tests', email = 'tests@labsync.invalid', role = c('aut', 'cre'))"
    echo "License: MIT + file LICENSE"
    [ -z "$3" ] || echo "Imports: $3"
  } > "$dir/DESCRIPTION"
  printf 'YEAR: 2026\nCOPYRIGHT HOLDER: labsync\n' > "$dir/LICENSE"
  echo "export($4)" > "$dir/NAMESPACE"
  printf '%s\n' "$5" > "$dir/R/$1.R"
  (cd "$work/src/$1-$2" && R CMD build --no-build-vignettes --no-manual "$1" >/dev/null)
  mv "$work/src/$1-$2/$1_$2.tar.gz" "$work/"
}

package fxr 0.2-1 "" fxr_version 'fxr_version <- function() "0.2-1"'
package fxr 0.3-0 "" fxr_version 'fxr_version <- function() "0.3-0"'
package labsyncdemo 1.0 fxr hello 'hello <- function() paste("hello from labsyncdemo with fxr", fxr::fxr_version())'
package fxrange 0.1-0 "fxr (>= 0.3-0)" fxrange_ok 'fxrange_ok <- function() fxr::fxr_version() >= "0.3-0"'

contrib="$out/src/contrib"
mkdir -p "$contrib/Archive/fxr" "$contrib/Meta"
mv "$work/fxr_0.2-1.tar.gz" "$contrib/Archive/fxr/"
mv "$work"/*.tar.gz "$contrib/"

Rscript --vanilla - "$contrib" <<'RSCRIPT'
contrib <- commandArgs(trailingOnly = TRUE)[[1L]]
tools::write_PACKAGES(contrib, type = "source")
# CRAN's Meta/archive.rds: a list named by package, each a file.info() frame
# whose row names are "<pkg>/<pkg>_<version>.tar.gz".
files <- list.files(file.path(contrib, "Archive"), pattern = "\\.tar\\.gz$", recursive = TRUE)
info <- file.info(file.path(contrib, "Archive", files))
rownames(info) <- files
archive <- lapply(split(files, dirname(files)), function(f) info[f, , drop = FALSE])
saveRDS(archive, file.path(contrib, "Meta", "archive.rds"))
RSCRIPT
chmod -R a+rX "$out"
echo "$out"
