// Command s3server builds the pinned S3 test server (versitygw) into the
// user's cache directory if it is not there yet, and prints its path.
// `make s3server` runs it before the tests.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/edgepix/edgepix/blob/s3test"
)

func main() {
	start := time.Now()
	bin, err := s3test.Install()
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3server:", err)
		os.Exit(1)
	}
	fmt.Printf("%s (ready in %s)\n", bin, time.Since(start).Round(time.Millisecond))
}
