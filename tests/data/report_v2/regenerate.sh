#!/bin/sh
# The runs behind this report (written by lstm97 report). Run from this folder.
set -e
lstm97 reproduce 3a-1 6a --trials 2 --store ../v1.sqlite
lstm97 reproduce --all --quick --store ../v1.sqlite
lstm97 report --store ../v1.sqlite --out .
