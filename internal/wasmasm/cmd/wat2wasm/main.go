// Command wat2wasm assembles a module in the WebAssembly text format
// (the subset wasmasm.Assemble knows) into a binary module:
//
//	go run ./internal/wasmasm/cmd/wat2wasm IN.wat OUT.wasm
package main

import (
	"fmt"
	"os"

	"github.com/edgepix/edgepix/internal/wasmasm"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: wat2wasm IN.wat OUT.wasm")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err == nil {
		var b []byte
		if b, err = wasmasm.Assemble(string(src)); err == nil {
			err = os.WriteFile(os.Args[2], b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
