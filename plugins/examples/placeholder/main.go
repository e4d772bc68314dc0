// Command placeholder is an example edgepix plugin built with sdk/plugin:
// fx.Placeholder compiled to WebAssembly (make plugins).
package main

import (
	"github.com/edgepix/edgepix/plugins/examples/fx"
	"github.com/edgepix/edgepix/sdk/plugin"
)

func init() { plugin.Handle(fx.Placeholder) }

func main() {}
