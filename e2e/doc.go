// Package e2e holds end-to-end tests: the real servers on loopback ports,
// driven by the official Cloudinary Go SDK and plain HTTP.
package e2e
