module octo.local/octo-runtime

go 1.19
