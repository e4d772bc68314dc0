// Package bench measures edgepix's capabilities, each next to a baseline
// measured in the same run, and reports ratios rather than absolute times
// (the machines this runs on are noisy). `make bench` prints the table.
package bench
