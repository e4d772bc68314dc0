// Command blur is an example edgepix plugin built with sdk/plugin:
// fx.Blur compiled to WebAssembly (make plugins).
package main

import (
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
)

func init() { plugin.Handle(fx.Blur) }

func main() {}
