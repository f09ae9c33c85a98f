// Package index client and local name index (issue 7).
import Specs
