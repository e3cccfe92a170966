include $(sort $(wildcard $(BR2_EXTERNAL_KUBERNETES_PATH)/package/*/*.mk))
