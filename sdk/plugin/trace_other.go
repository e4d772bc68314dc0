//go:build !wasip1

package plugin

import "os"

// Trace writes a line to standard error when the plugin runs natively
// (tests); in wasm it goes to the host's log.
func Trace(msg string) {
	if msg != "" {
		os.Stderr.WriteString(msg + "\n")
	}
}
