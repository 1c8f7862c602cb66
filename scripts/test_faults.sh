#!/usr/bin/env bash
# make test_faults: filled in by issue #9 fault suite.
exec "$(dirname "$0")/not_implemented.sh" test-faults "#9 fault suite"
