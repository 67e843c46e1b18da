package mem

import (
	"fmt"
	"os"
	"strings"
)

// Available is the memory the system can give without swapping
// (MemAvailable of /proc/meminfo), or 0 where unknown.
func Available() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if n, _ := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}
