//go:build tools

// Keeps the opa command's module in go.mod and go.sum (`go mod tidy` drops what nothing imports).
package tools

import _ "github.com/open-policy-agent/opa"
