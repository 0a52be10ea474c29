// Package calc is a sample for the go test runner's tests.
package calc

// Add returns a + b.
func Add(a, b int) int { return a + b }
