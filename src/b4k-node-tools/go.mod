module b4k-node-tools

go 1.24
